// A real OpenID provider for the e2e tests: node-oidc-provider (OpenID Certified),
// with its development login and consent pages, one confidential test client and
// any user ("ada" signs in as ada@example.com, email verified).
//
//   OIDC_PROVIDER_MODULE=<its package folder> node oidc_provider.mjs <port> <redirect_uri>...
//
// (`make e2e` installs the package into .e2e-node/; ES modules ignore NODE_PATH.)
//
// KEY_ID names the signing key, made at startup: a restart with another KEY_ID is a
// key rotation (the old key is gone from the JWKS).
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const packageDir = process.env.OIDC_PROVIDER_MODULE;
const { default: Provider } = await import(
  pathToFileURL(join(packageDir, "lib", "index.js")).href
);

const [port, ...redirectUris] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: "jwk" }),
  kid: process.env.KEY_ID || "key-1",
  use: "sig",
  alg: "RS256",
};

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: "test-client",
      client_secret: "test-client-secret",
      redirect_uris: redirectUris,
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  jwks: { keys: [signingKey] },
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name"],
  },
  // The profile in the ID token itself (the server reads userinfo otherwise).
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: [randomBytes(32).toString("hex")] },
  async findAccount(ctx, id) {
    const login = id.toLowerCase().replace(/[^a-z0-9.-]/g, "") || "user";
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: `${login}@example.com`,
          email_verified: true,
          name: `${login[0].toUpperCase()}${login.slice(1)} Lovelace`,
        };
      },
    };
  },
});
provider.proxy = false;

const server = provider.listen(Number(port), "127.0.0.1", () => {
  console.log(`oidc-provider listening on ${issuer} (key ${signingKey.kid})`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
