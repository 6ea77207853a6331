// How a downstream service checks this server's access tokens, statelessly:
//   node verify.mjs <base-url> <issuer> <audience> <token>
// Prints the verified claims as JSON and exits 0, or prints the reason and exits 1.
import { createRemoteJWKSet, jwtVerify } from "jose";

const [baseUrl, issuer, audience, token] = process.argv.slice(2);
const jwks = createRemoteJWKSet(new URL("/.well-known/jwks.json", baseUrl));

try {
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer,
    audience,
    typ: "at+jwt", // RFC 9068: an access token, never a refresh or ID token
    requiredClaims: ["exp", "sub", "sid"],
  });
  console.log(JSON.stringify({ header: protectedHeader, claims: payload }));
} catch (error) {
  console.log(JSON.stringify({ rejected: error.code || error.name }));
  process.exit(1);
}
