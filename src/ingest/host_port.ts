/** `host:port` as the authority of a URL (IPv6 literals in brackets). */
export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
