import type { SaslMechanism } from '../adapters/kafka/options.ts'

/** What a Java `sasl.jaas.config` line says: the mechanism its login module implies, and the credentials. */
export interface JaasLogin {
  /** PLAIN, SCRAM (either SHA) or OAUTHBEARER, from the login module's class. */
  readonly family: 'PLAIN' | 'SCRAM' | 'OAUTHBEARER'
  readonly username?: string
  readonly password?: string
}

const MODULES: Record<string, JaasLogin['family']> = {
  PlainLoginModule: 'PLAIN',
  ScramLoginModule: 'SCRAM',
  OAuthBearerLoginModule: 'OAUTHBEARER'
}

/**
 * Parses `org.apache.kafka.common.security.scram.ScramLoginModule required username="u"
 * password="p";` (the form of Confluent Cloud's and MSK's sample files). Values may be quoted
 * (with `\"` and `\\` inside) or bare. Returns a reason, never the text, when it cannot: the
 * text holds a password, and the reason ends up in an error message.
 */
export function parseJaas(text: string): JaasLogin | { readonly problem: string } {
  const head = /^\s*([A-Za-z_$][\w$.]*)\s+(required|requisite|sufficient|optional)\b/.exec(text)
  if (!head) return { problem: "it does not start with '<LoginModule class> required'" }
  const cls = head[1]!.split('.').pop()!
  const family = MODULES[cls]
  if (!family)
    return {
      problem: `login module '${cls}' is not supported (PlainLoginModule, ScramLoginModule or OAuthBearerLoginModule)`
    }
  const options: Record<string, string> = {}
  let rest = text.slice(head[0].length)
  const option = /^\s*([A-Za-z_][\w.-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s";]+))/
  for (;;) {
    const m = option.exec(rest)
    if (!m) break
    options[m[1]!] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!
    rest = rest.slice(m[0].length)
  }
  if (!/^\s*;?\s*$/.test(rest))
    return { problem: 'an option is not name="value" (or the closing quote or the final ; is misplaced)' }
  return {
    family,
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.password !== undefined ? { password: options.password } : {})
  }
}

/** Whether a login module fits a mechanism (ScramLoginModule serves both SCRAM-SHA mechanisms). */
export function jaasFits(family: JaasLogin['family'], mechanism: SaslMechanism): boolean {
  return family === 'SCRAM' ? mechanism.startsWith('SCRAM-') : family === mechanism
}
