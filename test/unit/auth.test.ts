import { beforeAll, describe, expect, it } from "vitest";
import {
  AuthError,
  authorizeConnect,
  JwksCache,
  matchesName,
  readAuthConfig,
  runAuthHook,
  tokenFromAuth,
  verifyJwt,
  type AuthConfig,
  type AuthHookContext,
  type Fetcher,
} from "../../src/auth";

// --- token minting, independent of the code under test ---------------------

const SECRET = "a-shared-secret-of-at-least-32-bytes!";
const JWKS_URL = "https://issuer.test/.well-known/jwks.json";
const NOW = 1_800_000_000_000; // ms
const nowSeconds = NOW / 1000;

function base64Url(bytes: Uint8Array | string): string {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  let binary = "";
  for (const byte of data) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

type Signer = { alg: string; key: CryptoKey | null; kid?: string };

const SIGN_PARAMS: Record<string, SubtleCryptoSignAlgorithm> = {
  HS256: { name: "HMAC" },
  RS256: { name: "RSASSA-PKCS1-v1_5" },
  ES256: { name: "ECDSA", hash: "SHA-256" },
};

async function mint(signer: Signer, claims: Record<string, unknown>, extraHeader: Record<string, unknown> = {}): Promise<string> {
  const header = { alg: signer.alg, typ: "JWT", ...(signer.kid ? { kid: signer.kid } : {}), ...extraHeader };
  const input = base64Url(JSON.stringify(header)) + "." + base64Url(JSON.stringify(claims));
  if (signer.key === null) return input + ".";
  const signature = await crypto.subtle.sign(SIGN_PARAMS[signer.alg], signer.key, new TextEncoder().encode(input));
  return input + "." + base64Url(new Uint8Array(signature));
}

const valid = (extra: Record<string, unknown> = {}) => ({
  sub: "user-1",
  iat: nowSeconds - 10,
  exp: nowSeconds + 600,
  ...extra,
});

async function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

async function rsaPair(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
}

async function ecPair(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
}

async function publicJwk(pair: CryptoKeyPair, kid: string, alg: string): Promise<JsonWebKey> {
  const jwk = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
  return { ...jwk, kid, alg, use: "sig" } as JsonWebKey;
}

/** A JWKS endpoint whose key set the test can change, counting requests. */
function jwksServer(initial: JsonWebKey[]) {
  const server = {
    keys: initial,
    requests: 0,
    fetch: (async (url: string) => {
      server.requests++;
      if (url !== JWKS_URL) return new Response("not found", { status: 404 });
      return Response.json({ keys: server.keys });
    }) as Fetcher,
  };
  return server;
}

/** Expects an AuthError with this exact client-facing message. */
async function refused(promise: Promise<unknown>, message: string): Promise<AuthError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected a refusal with "${message}"`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthError);
  expect((error as AuthError).message).toBe(message);
  return error as AuthError;
}

// --- keys shared by the tests ----------------------------------------------

let hs: Signer;
let rsa: CryptoKeyPair;
let ec: CryptoKeyPair;
let rs: Signer;
let es: Signer;
let rsaJwk: JsonWebKey;
let ecJwk: JsonWebKey;

beforeAll(async () => {
  hs = { alg: "HS256", key: await hmacKey(SECRET) };
  rsa = await rsaPair();
  ec = await ecPair();
  rs = { alg: "RS256", key: rsa.privateKey, kid: "rsa-1" };
  es = { alg: "ES256", key: ec.privateKey, kid: "ec-1" };
  rsaJwk = await publicJwk(rsa, "rsa-1", "RS256");
  ecJwk = await publicJwk(ec, "ec-1", "ES256");
});

const hsConfig: AuthConfig = { secret: SECRET, required: true };
const jwksConfig: AuthConfig = { jwksUrl: JWKS_URL, required: true };
const at = { now: () => NOW };

// --- verification ----------------------------------------------------------

describe("verifyJwt", () => {
  it("accepts good HS256, RS256 and ES256 tokens and returns their claims", async () => {
    expect((await verifyJwt(await mint(hs, valid()), hsConfig, at)).sub).toBe("user-1");
    const server = jwksServer([rsaJwk, ecJwk]);
    const options = { ...at, fetch: server.fetch, jwksCache: new JwksCache() };
    expect((await verifyJwt(await mint(rs, valid({ sub: "r" })), jwksConfig, options)).sub).toBe("r");
    expect((await verifyJwt(await mint(es, valid({ sub: "e" })), jwksConfig, options)).sub).toBe("e");
    expect(server.requests).toBe(1); // the second token used the cached key set
  });

  it("refuses a bad signature", async () => {
    const other = { alg: "HS256", key: await hmacKey("another-secret-that-is-32-bytes-long") };
    await refused(verifyJwt(await mint(other, valid()), hsConfig, at), "invalid signature");

    // A valid ES256 token whose payload was swapped afterwards.
    const server = jwksServer([ecJwk]);
    const [header, , signature] = (await mint(es, valid())).split(".");
    const forged = [header, base64Url(JSON.stringify(valid({ sub: "admin" }))), signature].join(".");
    await refused(verifyJwt(forged, jwksConfig, { ...at, fetch: server.fetch, jwksCache: new JwksCache() }), "invalid signature");
  });

  it("checks the signature before the claims", async () => {
    const other = { alg: "HS256", key: await hmacKey("another-secret-that-is-32-bytes-long") };
    await refused(verifyJwt(await mint(other, valid({ exp: nowSeconds - 1000 })), hsConfig, at), "invalid signature");
  });

  it("refuses expired tokens, with the configured clock skew", async () => {
    const token = await mint(hs, valid({ exp: nowSeconds - 20 }));
    // 20 s past exp is inside the default 30 s skew; outside a 10 s one.
    await expect(verifyJwt(token, hsConfig, at)).resolves.toBeTruthy();
    const strict = { ...hsConfig, clockSkewSeconds: 10 };
    const error = await refused(verifyJwt(token, strict, at), "token expired");
    expect(error.code).toBe("token_expired");
    await refused(verifyJwt(await mint(hs, valid({ exp: nowSeconds - 3600 })), hsConfig, at), "token expired");
  });

  it("refuses tokens without exp or with a non-numeric time claim", async () => {
    await refused(verifyJwt(await mint(hs, { sub: "x" }), hsConfig, at), "token has no expiry");
    await refused(verifyJwt(await mint(hs, valid({ exp: "tomorrow" })), hsConfig, at), 'invalid "exp" claim');
  });

  it("refuses tokens not yet valid, or issued in the future", async () => {
    await refused(verifyJwt(await mint(hs, valid({ nbf: nowSeconds + 120 })), hsConfig, at), "token not yet valid");
    await expect(verifyJwt(await mint(hs, valid({ nbf: nowSeconds + 5 })), hsConfig, at)).resolves.toBeTruthy();
    await refused(verifyJwt(await mint(hs, valid({ iat: nowSeconds + 120 })), hsConfig, at), "token issued in the future");
  });

  it("checks issuer and audience when configured", async () => {
    const config = { ...hsConfig, issuer: "https://issuer.test", audience: "socketio-edge" };
    const good = valid({ iss: "https://issuer.test", aud: ["other", "socketio-edge"] });
    await expect(verifyJwt(await mint(hs, good), config, at)).resolves.toBeTruthy();
    await refused(verifyJwt(await mint(hs, { ...good, iss: "https://evil.test" }), config, at), "token issuer not accepted");
    await refused(verifyJwt(await mint(hs, { ...good, iss: undefined }), config, at), "token issuer not accepted");
    await refused(verifyJwt(await mint(hs, { ...good, aud: "other" }), config, at), "token audience not accepted");
    await refused(verifyJwt(await mint(hs, { ...good, aud: undefined }), config, at), "token audience not accepted");
  });

  it("refuses malformed tokens", async () => {
    const good = await mint(hs, valid());
    const [header, payload, signature] = good.split(".");
    for (const token of [
      "",
      "abc",
      "a.b",
      "a.b.c.d",
      `${header}.${payload}.${signature}!`,
      `${header}.${base64Url("not json")}.${signature}`,
      `${header}.${base64Url("[1,2]")}.${signature}`,
      `${base64Url('{"typ":"JWT"}')}.${payload}.${signature}`, // no alg
      `${base64Url('{"alg":"HS256","kid":7}')}.${payload}.${signature}`,
    ]) {
      await refused(verifyJwt(token, hsConfig, at), "malformed token");
    }
    await refused(verifyJwt(await mint(hs, valid(), { crit: ["exp"] }), hsConfig, at), "unsupported token header");
    await refused(verifyJwt("a".repeat(9000), hsConfig, at), "token too large");
  });

  it('refuses alg "none" and algorithms it does not implement', async () => {
    const unsigned = await mint({ alg: "none", key: null }, valid());
    await refused(verifyJwt(unsigned, hsConfig, at), "token algorithm not accepted");
    await refused(verifyJwt(unsigned, jwksConfig, at), "token algorithm not accepted");
    const hs512 = (await mint(hs, valid())).replace(/^[^.]+/, base64Url('{"alg":"HS512"}'));
    await refused(verifyJwt(hs512, hsConfig, at), "token algorithm not accepted");
  });

  it("refuses an HS256 token signed with the RSA public key of the JWKS (algorithm confusion)", async () => {
    const spki = new Uint8Array((await crypto.subtle.exportKey("spki", rsa.publicKey)) as ArrayBuffer);
    const pem = `-----BEGIN PUBLIC KEY-----\n${btoa(String.fromCharCode(...spki))}\n-----END PUBLIC KEY-----\n`;
    const confused = { alg: "HS256", kid: "rsa-1", key: await hmacKey(pem) };
    const server = jwksServer([rsaJwk]);
    const options = { ...at, fetch: server.fetch, jwksCache: new JwksCache() };
    await refused(verifyJwt(await mint(confused, valid()), jwksConfig, options), "token algorithm not accepted");
    // Also with both a secret and a JWKS configured: HS256 only ever uses the secret.
    const both = { ...jwksConfig, secret: SECRET };
    await refused(verifyJwt(await mint(confused, valid()), both, options), "invalid signature");
    expect(server.requests).toBe(0);
  });

  it("does not use a key of the wrong type or algorithm from the JWKS", async () => {
    // An ES256 token naming the RSA key's kid; and an RSA key pinned to another alg.
    const server = jwksServer([rsaJwk, { ...rsaJwk, kid: "rsa-pss", alg: "PS256" } as JsonWebKey]);
    const options = { ...at, fetch: server.fetch, jwksCache: new JwksCache() };
    await refused(verifyJwt(await mint({ ...es, kid: "rsa-1" }, valid()), jwksConfig, options), "unknown signing key");
    await refused(verifyJwt(await mint({ ...rs, kid: "rsa-pss" }, valid()), jwksConfig, options), "unknown signing key");
  });

  it("tries the fitting keys when a token names no kid", async () => {
    const other = await ecPair();
    const server = jwksServer([await publicJwk(other, "ec-0", "ES256"), ecJwk]);
    const options = { ...at, fetch: server.fetch, jwksCache: new JwksCache() };
    await expect(verifyJwt(await mint({ ...es, kid: undefined }, valid()), jwksConfig, options)).resolves.toBeTruthy();
  });
});

// --- JWKS fetching and caching ---------------------------------------------

describe("JWKS cache", () => {
  it("refetches once on an unknown kid (key rotation), at most once per interval", async () => {
    const server = jwksServer([rsaJwk]);
    const cache = new JwksCache({ minRefetchIntervalMs: 30_000 });
    let now = NOW;
    const options = { now: () => now, fetch: server.fetch, jwksCache: cache };
    await verifyJwt(await mint(rs, valid()), jwksConfig, options);
    expect(server.requests).toBe(1);

    // The issuer adds a new key; a token signed with it arrives a minute later.
    server.keys = [rsaJwk, ecJwk];
    now += 60_000;
    await expect(verifyJwt(await mint(es, valid()), jwksConfig, options)).resolves.toBeTruthy();
    expect(server.requests).toBe(2);

    // Made-up kids right after: no request each.
    for (const kid of ["x1", "x2", "x3"]) {
      await refused(verifyJwt(await mint({ ...es, kid }, valid()), jwksConfig, options), "unknown signing key");
    }
    expect(server.requests).toBe(2);
    now += 31_000;
    await refused(verifyJwt(await mint({ ...es, kid: "x4" }, valid()), jwksConfig, options), "unknown signing key");
    expect(server.requests).toBe(3);
  });

  it("honours Cache-Control max-age within bounds", async () => {
    let requests = 0;
    const fetcher: Fetcher = async () => {
      requests++;
      return Response.json({ keys: [rsaJwk] }, { headers: { "Cache-Control": "public, max-age=120" } });
    };
    const cache = new JwksCache();
    let now = NOW;
    const options = { now: () => now, fetch: fetcher, jwksCache: cache };
    const token = await mint(rs, valid({ exp: nowSeconds + 3600 }));
    await verifyJwt(token, jwksConfig, options);
    now += 119_000;
    await verifyJwt(token, jwksConfig, options);
    expect(requests).toBe(1);
    now += 2_000;
    await verifyJwt(token, jwksConfig, options);
    expect(requests).toBe(2);
  });

  it("shares one request between concurrent verifications", async () => {
    const server = jwksServer([rsaJwk]);
    const options = { ...at, fetch: server.fetch, jwksCache: new JwksCache() };
    const token = await mint(rs, valid());
    await Promise.all([1, 2, 3, 4].map(() => verifyJwt(token, jwksConfig, options)));
    expect(server.requests).toBe(1);
  });

  it("keeps using cached keys when a refresh fails, and says so when none were ever fetched", async () => {
    const logs: string[] = [];
    let up = true;
    const fetcher: Fetcher = async () => (up ? Response.json({ keys: [rsaJwk] }) : new Response("down", { status: 503 }));
    const cache = new JwksCache({ defaultTtlMs: 60_000, log: (m) => logs.push(m) });
    let now = NOW;
    const options = { now: () => now, fetch: fetcher, jwksCache: cache };
    const token = await mint(rs, valid({ exp: nowSeconds + 7200 }));
    await verifyJwt(token, jwksConfig, options);
    up = false;
    now += 120_000;
    await expect(verifyJwt(token, jwksConfig, options)).resolves.toBeTruthy();
    expect(logs.join("\n")).toContain("HTTP 503");

    const cold = new JwksCache({ log: () => {} });
    await refused(verifyJwt(token, jwksConfig, { ...options, jwksCache: cold }), "signing keys unavailable");
  });

  it("ignores private members of a JWKS entry", async () => {
    const privateJwk = (await crypto.subtle.exportKey("jwk", rsa.privateKey)) as JsonWebKey;
    // As a key-export tool might publish it, minus the "sign" key_ops (which would rightly rule it out).
    const server = jwksServer([{ ...privateJwk, key_ops: undefined, kid: "rsa-1", alg: "RS256" } as JsonWebKey]);
    const options = { ...at, fetch: server.fetch, jwksCache: new JwksCache() };
    await expect(verifyJwt(await mint(rs, valid()), jwksConfig, options)).resolves.toBeTruthy();
  });
});

// --- CONNECT authorization -------------------------------------------------

describe("authorizeConnect", () => {
  const connect = async (claims: Record<string, unknown>, room = "team-a", namespace = "/") =>
    authorizeConnect({ token: await mint(hs, valid(claims)), room, namespace }, hsConfig, at);

  it("returns the claims of a token valid for the room and namespace", async () => {
    const { claims } = await connect({ rooms: ["team-a"], namespaces: ["/"] });
    expect(claims?.sub).toBe("user-1");
  });

  it("refuses a token for another room", async () => {
    const error = await refused(connect({ rooms: ["team-b", "lobby"] }), 'token not valid for room "team-a"');
    expect(error.code).toBe("room_not_allowed");
  });

  it("refuses a token for another namespace", async () => {
    await refused(connect({ namespaces: ["/chat"] }, "team-a", "/admin"), 'token not valid for namespace "/admin"');
    await expect(connect({ namespaces: ["chat"] }, "team-a", "/chat")).resolves.toBeTruthy(); // leading "/" optional
  });

  it("matches prefix wildcards", async () => {
    await expect(connect({ rooms: ["team-*"] }, "team-a")).resolves.toBeTruthy();
    await expect(connect({ rooms: ["*"] }, "anything")).resolves.toBeTruthy();
    await expect(connect({ namespaces: ["/admin/*"] }, "r", "/admin/users")).resolves.toBeTruthy();
    await refused(connect({ rooms: ["team-*"] }, "teams"), 'token not valid for room "teams"');
    expect(matchesName("a*b", "a*b")).toBe(true); // only a trailing "*" is a wildcard
    expect(matchesName("a*b", "axb")).toBe(false);
  });

  it("treats a missing access claim as no limit, an empty one as nothing, a malformed one as a refusal", async () => {
    await expect(connect({}, "any-room", "/any")).resolves.toBeTruthy();
    await refused(connect({ rooms: [] }), 'token not valid for room "team-a"');
    await refused(connect({ rooms: "team-a" }), 'invalid "rooms" claim');
    await refused(connect({ namespaces: [1] }), 'invalid "namespaces" claim');
  });

  it("requires a token unless auth is optional", async () => {
    await refused(authorizeConnect({ token: undefined, room: "r", namespace: "/" }, hsConfig, at), "authentication required");
    const optional = { ...hsConfig, required: false };
    expect(await authorizeConnect({ token: undefined, room: "r", namespace: "/" }, optional, at)).toEqual({ claims: null });
    // Optional does not mean a bad token is let through.
    await refused(authorizeConnect({ token: "x.y.z", room: "r", namespace: "/" }, optional, at), "malformed token");
    await refused(authorizeConnect({ token: 42, room: "r", namespace: "/" }, optional, at), "malformed token");
  });

  it("reads the token from the auth payload, with or without a Bearer prefix", async () => {
    const token = await mint(hs, valid());
    expect(tokenFromAuth({ token })).toBe(token);
    expect(tokenFromAuth(null)).toBeUndefined();
    const result = await authorizeConnect({ token: "Bearer " + token, room: "r", namespace: "/" }, hsConfig, at);
    expect(result.claims?.sub).toBe("user-1");
  });
});

// --- configuration and custom hook -----------------------------------------

describe("readAuthConfig", () => {
  it("is off without a secret or JWKS URL", () => {
    expect(readAuthConfig({})).toBeNull();
  });

  it("reads every variable, trimming secrets", () => {
    expect(
      readAuthConfig({
        JWT_SECRET: SECRET + "\n",
        JWT_JWKS_URL: JWKS_URL,
        JWT_ISSUER: "https://issuer.test",
        JWT_AUDIENCE: "app",
        JWT_REQUIRED: "off",
        JWT_CLOCK_SKEW: "5",
      }),
    ).toEqual({ secret: SECRET, jwksUrl: JWKS_URL, issuer: "https://issuer.test", audience: "app", clockSkewSeconds: 5, required: false });
    expect(readAuthConfig({ JWT_SECRET: SECRET })).toMatchObject({ required: true, clockSkewSeconds: 30 });
  });

  it("refuses configurations that would be weaker than they look", () => {
    expect(() => readAuthConfig({ JWT_SECRET: "short" })).toThrow(/at least 32 bytes/);
    expect(() => readAuthConfig({ JWT_JWKS_URL: "http://issuer.test/jwks" })).toThrow(/https/);
    expect(readAuthConfig({ JWT_JWKS_URL: "http://localhost:9000/jwks" })?.jwksUrl).toBe("http://localhost:9000/jwks");
    expect(() => readAuthConfig({ JWT_ISSUER: "https://issuer.test" })).toThrow(/neither JWT_SECRET nor JWT_JWKS_URL/);
    expect(() => readAuthConfig({ JWT_SECRET: SECRET, JWT_REQUIRED: "yes" })).toThrow(/"on" or "off"/);
    expect(() => readAuthConfig({ JWT_SECRET: SECRET, JWT_CLOCK_SKEW: "-1" })).toThrow(/JWT_CLOCK_SKEW/);
  });
});

describe("runAuthHook", () => {
  const context: AuthHookContext = {
    room: "r",
    namespace: "/",
    auth: { apiKey: "k" },
    handshake: { query: {}, headers: {}, address: null },
    claims: null,
  };

  it("returns the identity the hook returns", async () => {
    expect(await runAuthHook(async ({ auth }) => ({ user: auth.apiKey }), context)).toEqual({ user: "k" });
    expect(await runAuthHook(() => undefined, context)).toBeNull();
  });

  it("turns what the hook throws into an AuthError with its message", async () => {
    const error = await refused(runAuthHook(async () => Promise.reject(new Error("banned")), context), "banned");
    expect(error.code).toBe("refused");
    await refused(runAuthHook(() => { throw "nope"; }, context), "not authorized");
  });
});
