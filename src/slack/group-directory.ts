import type { WebClient } from '@slack/web-api';
import type { Access } from '../config/topology';
import { resolveGroups } from '../engine/approval-policy';

/** Slack user-group ids start with S; user ids with U or W. Only groups are looked up. */
const isGroupId = (id: string) => /^S[A-Z0-9]{2,}$/.test(id);

/**
 * Members of Slack user groups, cached briefly: approvals are checked on every click, and a
 * membership change should take effect within a minute, not an incident later.
 */
export class SlackGroupDirectory {
  private readonly cache = new Map<string, { members: string[]; until: number }>();

  constructor(
    private readonly client: WebClient,
    private readonly ttlMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async members(groupId: string): Promise<string[]> {
    if (!isGroupId(groupId)) return [];
    const hit = this.cache.get(groupId);
    if (hit && hit.until > this.now()) return hit.members;
    const answer = await this.client.usergroups.users.list({ usergroup: groupId });
    const members = answer.users ?? [];
    this.cache.set(groupId, { members, until: this.now() + this.ttlMs });
    return members;
  }

  /** The topology file's groups, plus the Slack groups the access names. */
  async groupsFor(access: Access, local: Record<string, string[]>): Promise<Record<string, string[]>> {
    const fromSlack = await resolveGroups(access, (id) => this.members(id));
    return { ...local, ...fromSlack };
  }
}
