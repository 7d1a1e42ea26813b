/** The browser build of socket.io-client, imported as text (alias in wrangler.toml). */
declare module "socket.io-client-bundle" {
  const source: string;
  export default source;
}
