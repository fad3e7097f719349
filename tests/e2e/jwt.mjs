// Signs JWTs for the tests with node:crypto (HS256, RS256, and broken ones).
import crypto from 'node:crypto';

const b64url = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');

export function sign(claims, { alg = 'HS256', secret, privateKey, header = {} } = {}) {
  const head = b64url({ alg, typ: 'JWT', ...header });
  const body = b64url(claims);
  const input = `${head}.${body}`;
  let sig = '';
  if (alg.startsWith('HS')) {
    sig = crypto.createHmac(`sha${alg.slice(2)}`, secret).update(input).digest('base64url');
  } else if (alg.startsWith('RS')) {
    sig = crypto.createSign(`RSA-SHA${alg.slice(2)}`).update(input).sign(privateKey, 'base64url');
  }
  return `${input}.${sig}`;
}

export const inOneHour = () => Math.floor(Date.now() / 1000) + 3600;

export function rsaKeys() {
  return crypto.generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}
