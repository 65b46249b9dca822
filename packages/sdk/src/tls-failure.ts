/**
 * The code of a TLS failure in an error or its causes: `untrusted` when the
 * peer's certificate does not chain to a trusted CA (or names another host),
 * `not-tls` when the peer does not speak TLS at all.
 *
 * @example
 * const failure = tlsFailure(error);
 * if (failure?.kind === 'untrusted') console.error(`pass the CA that signed it (${failure.code})`);
 */
export function tlsFailure(error: unknown): { kind: 'untrusted' | 'not-tls'; code: string } | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (/^(CERT_|UNABLE_TO_)|SELF_SIGNED|^ERR_TLS_CERT_ALTNAME_INVALID$/.test(code))
        return { kind: 'untrusted', code };
      if (code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER') return { kind: 'not-tls', code };
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
