/**
 * Checks a configured URL: https, or plain http only to this machine (for
 * development). Throws a message naming the setting.
 */
export function requireSecureUrl(setting: string, value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${setting} is not a URL: "${value}"`);
  }
  const local = url.hostname === "localhost" || url.hostname === "127.0.0.1" || url.hostname === "[::1]";
  if (url.protocol !== "https:" && !(url.protocol === "http:" && local)) {
    throw new Error(`${setting} must be an https URL, got "${value}"`);
  }
}
