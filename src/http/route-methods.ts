/**
 * The methods each path of the API answers, so that a request for a path the hub has, with a method
 * it does not answer there, is told so (405 and `Allow`) rather than that the path does not exist.
 */
export class RouteMethods {
  private readonly routes = new Map<string, { pattern: RegExp, methods: Set<string> }>()

  /** A route as fastify registers it: `:name` matches one path segment, `*` the rest of the path. */
  add (url: string, method: string | string[]): void {
    let route = this.routes.get(url)
    if (route === undefined) {
      const segments = url.split('/').map((s) => s.startsWith(':') ? '[^/]+' : s === '*' ? '.*' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      route = { pattern: new RegExp(`^${segments.join('/')}$`), methods: new Set() }
      this.routes.set(url, route)
    }
    for (const m of Array.isArray(method) ? method : [method]) route.methods.add(m.toUpperCase())
  }

  /** The methods some route answers at `path` (no query), sorted; none when no route has the path. */
  allowed (path: string): string[] {
    const methods = new Set<string>()
    for (const { pattern, methods: ms } of this.routes.values()) {
      if (pattern.test(path)) for (const m of ms) methods.add(m)
    }
    return [...methods].sort()
  }
}
