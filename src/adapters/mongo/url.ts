/** A MongoDB URL fit for a log line: the password is replaced by `***`. */
export function redactMongoUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):([^@/]*)@/, '//$1:***@')
}
