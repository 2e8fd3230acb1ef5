/** Block Kit as a human reads it: the README's transcripts of what the stand-in recorded. */
type Block = {
  type: string;
  text?: { text: string };
  elements?: { type: string; text?: string | { text: string } }[];
};

export function blocksAsText(blocks: unknown): string {
  return ((blocks ?? []) as Block[])
    .map((b) => {
      if (b.type === 'header' || b.type === 'section') return b.text?.text ?? '';
      if (b.type === 'context')
        return (b.elements ?? []).map((e) => (typeof e.text === 'string' ? e.text : '')).join(' ');
      if (b.type === 'actions')
        return (b.elements ?? []).map((e) => `[${typeof e.text === 'object' ? e.text.text : ''}]`).join(' ');
      return '';
    })
    .join('\n')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
