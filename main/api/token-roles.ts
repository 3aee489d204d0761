/**
 * Where relevance lands, by token role, for one stored result: the Inspector shows the shown example's shares with
 * the same roles (main/metrics/token-roles.ts) and the same share rule (main/metrics/plausibility.ts
 * relevanceShare) the `relevance-share` metric aggregates, through the API contract.
 */
import { relevanceShare } from '../metrics/plausibility';
import { TOKEN_ROLES, tokenRoles, type TokenRole } from '../metrics/token-roles';

export { TOKEN_ROLES, type TokenRole };

/** One method's shares: of |R| and of positive R per role present in the prompt (roles in TOKEN_ROLES order). */
export interface RoleShares {
  method: string;
  roles: { role: TokenRole; tokens: number; abs: number; positive: number }[];
}

/**
 * Per relevance method of a result, the share of |R| and of positive R on each token role; methods whose values
 * do not cover the tokens (or are not finite) are left out. A share with nothing to divide by (all zero) is NaN.
 */
export function roleSharesOf(tokens: readonly { text: string; segment: string }[], relevance: readonly { method: string; values: readonly number[] }[]): RoleShares[] {
  const roles = tokenRoles(tokens);
  return relevance.flatMap((rel) => {
    if (rel.values.length !== tokens.length || rel.values.some((v) => !Number.isFinite(v))) return [];
    const s = relevanceShare(Array.from(rel.values), roles);
    return [{ method: rel.method, roles: TOKEN_ROLES.filter((r) => s[r]).map((r) => ({ role: r, tokens: s[r].tokens, abs: s[r].abs, positive: s[r].positive })) }];
  });
}
