// The suite's OpenID Provider: `oidc-provider` (certified) with its development login and consent
// pages, which the tests drive over HTTP as a browser would. Everything comes from the environment:
//   PORT      where to listen (the issuer is http://127.0.0.1:PORT)
//   CLIENTS   JSON list of {client_id, client_secret, redirect_uris}
//   ACCOUNTS  JSON object: login name -> claims (sub, email, email_verified, name)
//   JWKS      JSON {keys: [...]}: the private signing keys (a restart with others rotates them)
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const accounts = JSON.parse(process.env.ACCOUNTS || '{}');
const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: JSON.parse(process.env.CLIENTS).map((client) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    ...client,
  })),
  jwks: JSON.parse(process.env.JWKS),
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, ...(accounts[id] || {}) }),
  }),
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
});
// Only the parent's requests matter; its death ends this process too (stdin closes).
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
provider.listen(port, '127.0.0.1', () => console.log('ready'));
