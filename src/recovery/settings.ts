import { DEFAULT_RECOVERY, type ConnectionStateRecovery } from "../server/recovery";

/**
 * The recovery settings in force: the room's own (`serverSettings()`), unless
 * the var CONNECTION_STATE_RECOVERY_MS says otherwise ("0": off; a number of
 * milliseconds: on, with that window). Null when off.
 */
export function recoverySettings(
  inCode: Partial<ConnectionStateRecovery> | undefined,
  fromVar: string | undefined,
): ConnectionStateRecovery | null {
  if (fromVar !== undefined && fromVar.trim() !== "") {
    const ms = Number(fromVar);
    if (!Number.isInteger(ms) || ms < 0) throw new Error(`CONNECTION_STATE_RECOVERY_MS must be 0 or a number of milliseconds, got "${fromVar}"`);
    if (ms === 0) return null;
    return { ...DEFAULT_RECOVERY, ...inCode, maxDisconnectionDuration: ms };
  }
  return inCode === undefined ? null : { ...DEFAULT_RECOVERY, ...inCode };
}
