/** Text modules (wrangler's default rules): see src/worker/app.ts. */
declare module "*.html" {
  const text: string;
  export default text;
}
declare module "*.txt" {
  const text: string;
  export default text;
}
