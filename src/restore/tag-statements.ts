import { Transform } from 'node:stream';
import { tagComment } from '../db/step-tag';

const NL = 0x0a;
const SEMICOLON = 0x3b;
/** Enough of a line's start to tell a statement keyword and a DELIMITER line apart. */
const HEAD_BYTES = 10;

/**
 * Puts the step's tag in front of every statement of a mariadb-dump stream, so that MariaDB's
 * PROCESSLIST.INFO names the step even for the restore's own statements (cancelLeftovers looks
 * there). A statement starts a line when the line before ended with ";" (mariadb-dump writes one
 * statement per line for data, escapes newlines inside strings, and runs without "--" comments
 * under --skip-comments). Only lines starting with a keyword (A–Z) are tagged, never inside a
 * DELIMITER block (routine bodies stay byte for byte). The mariadb client must keep comments.
 */
export function statementTagger(tag: string): Transform {
  const lead = Buffer.from(`${tagComment(tag)} `);
  let head: Buffer | null = Buffer.alloc(0); // the undecided start of the current line; null once decided
  let statementStart = true; // the last non-blank line ended a statement
  let inDelimiterBlock = false;
  let lastNonBlank = -1; // last non-blank byte of the current line, -1 when none yet

  const decide = (out: Buffer[], lineEnded: boolean): void => {
    if (!head) return;
    const text = head.toString('latin1');
    // A DELIMITER line is short: wait for all of it.
    if (/^DELIMITER\b/i.test(text) && !lineEnded && head.length < 64) return;
    if (/^DELIMITER\b/i.test(text)) inDelimiterBlock = !/^DELIMITER\s+;\s*$/i.test(text);
    else if (statementStart && !inDelimiterBlock && /^[A-Z]/.test(text)) out.push(lead);
    out.push(head);
    head = null;
  };
  const track = (piece: Buffer): void => {
    for (let i = piece.length - 1; i >= 0; i--) {
      const b = piece[i]!;
      if (b !== 0x20 && b !== 0x09 && b !== 0x0d && b !== NL) {
        lastNonBlank = b;
        return;
      }
    }
  };

  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const out: Buffer[] = [];
      let at = 0;
      while (at < chunk.length) {
        const nl = chunk.indexOf(NL, at);
        const end = nl === -1 ? chunk.length : nl + 1;
        const piece = chunk.subarray(at, end);
        at = end;
        if (head) {
          head = Buffer.concat([head, piece]);
          if (nl !== -1 || head.length >= HEAD_BYTES) {
            track(head);
            decide(out, nl !== -1);
          }
        } else {
          track(piece);
          out.push(piece);
        }
        if (nl !== -1) {
          if (head) decide(out, true); // a line shorter than HEAD_BYTES
          if (lastNonBlank !== -1 && !inDelimiterBlock) statementStart = lastNonBlank === SEMICOLON;
          lastNonBlank = -1;
          head = Buffer.alloc(0);
        }
      }
      cb(null, Buffer.concat(out));
    },
    flush(cb) {
      const out: Buffer[] = [];
      decide(out, true);
      cb(null, Buffer.concat(out));
    },
  });
}
