import { BroadcastOperator } from "./broadcast";
import { NamespaceHandlers, type ConnectionHandler } from "./handlers";
import { Namespace } from "./namespace";

export type NamespacePattern = RegExp | ((name: string) => boolean);

export interface ServerSettings {
  /** Accept namespaces nobody declared (socket.io answers "Invalid namespace" to them otherwise). */
  dynamicNamespaces: boolean;
}

/**
 * The server-side API of one room object, modelled on socket.io's `Server`.
 * Declare namespaces and handlers once, in the room's `setup(io)`.
 */
export class Server {
  private readonly namespaces = new Map<string, Namespace>();
  private readonly declared = new Set<string>();
  private readonly patterns: { match: (name: string) => boolean; handlers: NamespaceHandlers }[] = [];

  constructor(readonly settings: ServerSettings = { dynamicNamespaces: true }) {}

  /** A namespace by name, or handlers shared by every namespace a pattern matches. */
  of(name: string): Namespace;
  of(pattern: NamespacePattern): NamespaceHandlers;
  of(nameOrPattern: string | NamespacePattern): Namespace | NamespaceHandlers {
    if (typeof nameOrPattern === "string") {
      const name = normalize(nameOrPattern);
      this.declared.add(name);
      return this.namespace(name);
    }
    const match = nameOrPattern instanceof RegExp ? (n: string) => nameOrPattern.test(n) : nameOrPattern;
    const handlers = new NamespaceHandlers();
    this.patterns.push({ match, handlers });
    return handlers;
  }

  /** The main namespace ("/"). */
  get sockets(): Namespace {
    return this.of("/");
  }

  on(type: "connection", handler: ConnectionHandler): this {
    this.sockets.on(type, handler);
    return this;
  }

  to(room: string | readonly string[]): BroadcastOperator {
    return this.sockets.to(room);
  }

  in(room: string | readonly string[]): BroadcastOperator {
    return this.sockets.to(room);
  }

  except(room: string | readonly string[]): BroadcastOperator {
    return this.sockets.except(room);
  }

  emit(event: string, ...args: unknown[]): number {
    return this.sockets.emit(event, ...args);
  }

  /** The namespace a client asks to connect to, or null when it is not allowed. */
  lookup(name: string): Namespace | null {
    const existing = this.namespaces.get(name);
    if (existing && (this.declared.has(name) || existing.sockets.size > 0 || this.isAllowed(name))) return existing;
    return this.isAllowed(name) ? this.namespace(name) : null;
  }

  /** Namespaces that exist in this object now. */
  all(): IterableIterator<Namespace> {
    return this.namespaces.values();
  }

  private isAllowed(name: string): boolean {
    return (
      this.declared.has(name) || this.settings.dynamicNamespaces || this.patterns.some((p) => p.match(name))
    );
  }

  private namespace(name: string): Namespace {
    let nsp = this.namespaces.get(name);
    if (!nsp) {
      const inherited = () => this.patterns.filter((p) => p.match(name)).map((p) => p.handlers);
      nsp = new Namespace(name, inherited);
      this.namespaces.set(name, nsp);
    }
    return nsp;
  }
}

function normalize(name: string): string {
  return name.startsWith("/") ? name : "/" + name;
}
