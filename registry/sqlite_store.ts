/**
 * {@linkcode RegistryStore} on embedded SQLite (`node:sqlite`).
 *
 * WAL mode with `synchronous=NORMAL` (a commit survives a process crash; the
 * last commits may be lost on power loss), the file locked for this store
 * alone while it is open (one registry per database: its memory is the
 * working set), checkpoints on the registry's
 * health tick rather than inside commits, a versioned schema migrated on
 * open, every {@linkcode StoreChanges} applied in one transaction, prepared
 * statements reused.
 *
 * An agent's tools are stored as one JSON text in a table of their own,
 * once per distinct text: replicas of a service share one row, which the
 * store counts its users of and deletes with the last one. A replica's
 * registration then writes no tools at all, and agent rows stay small:
 * updating the `last_seen` times of 10,000 agents on a health tick rewrites
 * a few hundred pages, not 10,000.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import type {
  AgentStatus,
  MeshAgentType,
  RegistryEventInfo,
  RegistryEventType,
} from "@mesh/sdk/protocol";
import type { EventQuery, RegistryStore, StoreChanges, StoredAgent, StoredTool } from "./store.ts";

/** A schema migration: SQL, or a function for data rewrites. */
type Migration = string | ((db: DatabaseSync) => void);

/** Schema migrations, applied in order; index + 1 is the schema version. */
const MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE agents (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     agent_type TEXT NOT NULL,
     runtime TEXT,
     description TEXT,
     version TEXT NOT NULL,
     http_host TEXT NOT NULL,
     http_port INTEGER NOT NULL,
     namespace TEXT NOT NULL,
     status TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     last_seen INTEGER NOT NULL
   );
   CREATE TABLE tools (
     agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
     position INTEGER NOT NULL,
     function_name TEXT NOT NULL,
     capability TEXT NOT NULL,
     version TEXT NOT NULL,
     tags TEXT NOT NULL,
     dependencies TEXT NOT NULL,
     description TEXT,
     input_schema TEXT,
     output_schema TEXT,
     kwargs TEXT,
     PRIMARY KEY (agent_id, position)
   );
   CREATE TABLE events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     event_type TEXT NOT NULL,
     agent_id TEXT NOT NULL,
     agent_name TEXT,
     timestamp INTEGER NOT NULL,
     data TEXT
   );
   CREATE INDEX events_agent ON events (agent_id, id);
   CREATE INDEX events_type ON events (event_type, id);`,
  moveToolsIntoAgents,
  // Schema 3: events keep plain rowids and no secondary indexes. Appending
  // an event wrote four b-trees (the table, two indexes, sqlite_sequence);
  // now it writes one. Reads scan at most the 10,000 events kept, newest
  // first, and stop at their limit. Rowids still grow: only the oldest
  // events are ever deleted.
  `CREATE TABLE events_new (
     id INTEGER PRIMARY KEY,
     event_type TEXT NOT NULL,
     agent_id TEXT NOT NULL,
     agent_name TEXT,
     timestamp INTEGER NOT NULL,
     data TEXT
   );
   INSERT INTO events_new SELECT id, event_type, agent_id, agent_name, timestamp, data FROM events;
   DROP TABLE events;
   ALTER TABLE events_new RENAME TO events;
   DELETE FROM sqlite_sequence WHERE name = 'events';`,
  // Schema 4: tools move out of the agent rows (see the module doc).
  `CREATE TABLE agent_tools (
     agent_id TEXT PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
     tools TEXT NOT NULL
   );
   INSERT INTO agent_tools (agent_id, tools) SELECT id, tools FROM agents;
   ALTER TABLE agents DROP COLUMN tools;`,
  shareToolSets,
];

/**
 * Schema 2: an agent's tools are one JSON array in `agents.tools` (one row
 * write per registration instead of one per tool); existing tool rows move
 * there and the `tools` table goes.
 */
function moveToolsIntoAgents(db: DatabaseSync): void {
  db.exec("ALTER TABLE agents ADD COLUMN tools TEXT NOT NULL DEFAULT '[]'");
  const rows = db.prepare("SELECT * FROM tools ORDER BY agent_id, position")
    .all() as unknown as ToolRow[];
  const setTools = db.prepare("UPDATE agents SET tools = ? WHERE id = ?");
  for (const [agentId, tools] of Map.groupBy(rows, (row) => row.agent_id)) {
    setTools.run(JSON.stringify(tools.map(toolFromRow)), agentId);
  }
  db.exec("DROP TABLE tools");
}

/**
 * Schema 5: each distinct tools text is stored once, in `tool_sets`, and
 * agents refer to theirs by id (see the module doc).
 */
function shareToolSets(db: DatabaseSync): void {
  db.exec(`CREATE TABLE tool_sets (id INTEGER PRIMARY KEY, tools TEXT NOT NULL);
    ALTER TABLE agents ADD COLUMN tool_set INTEGER`);
  const insertSet = db.prepare("INSERT INTO tool_sets (tools) VALUES (?)");
  const setOfAgent = db.prepare("UPDATE agents SET tool_set = ? WHERE id = ?");
  const ids = new Map<string, number | bigint>();
  const rows = db.prepare("SELECT agent_id, tools FROM agent_tools").all() as unknown as {
    agent_id: string;
    tools: string;
  }[];
  for (const { agent_id, tools } of rows) {
    let id = ids.get(tools);
    if (id === undefined) {
      id = insertSet.run(tools).lastInsertRowid;
      ids.set(tools, id);
    }
    setOfAgent.run(id, agent_id);
  }
  db.exec("DROP TABLE agent_tools");
}

/**
 * Inserts or updates an agent row. An update, not a replace; a null
 * `tool_set` keeps the row's tools.
 */
const UPSERT_AGENT = `INSERT INTO agents (id, name, agent_type, runtime, description, version,
    http_host, http_port, namespace, status, created_at, updated_at, last_seen, tool_set)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (id) DO UPDATE SET name = excluded.name, agent_type = excluded.agent_type,
    runtime = excluded.runtime, description = excluded.description, version = excluded.version,
    http_host = excluded.http_host, http_port = excluded.http_port,
    namespace = excluded.namespace, status = excluded.status, created_at = excluded.created_at,
    updated_at = excluded.updated_at, last_seen = excluded.last_seen,
    tool_set = coalesce(excluded.tool_set, agents.tool_set)`;

/** Every agent with its tools (none stored: null). */
const SELECT_AGENTS = `SELECT agents.*, tool_sets.tools FROM agents
  LEFT JOIN tool_sets ON tool_sets.id = agents.tool_set ORDER BY agents.id`;

/**
 * Write-ahead log pages after which a commit checkpoints by itself; below it,
 * only {@linkcode SqliteStore.maintain} does (a checkpoint syncs the disk, so
 * it stays out of request handling).
 */
const WAL_CHECKPOINT_PAGES = 10_000;

/** Current schema version of {@linkcode SqliteStore}. */
export const SCHEMA_VERSION: number = MIGRATIONS.length;

interface AgentRow {
  id: string;
  name: string;
  agent_type: string;
  runtime: string | null;
  description: string | null;
  version: string;
  http_host: string;
  http_port: number;
  namespace: string;
  status: string;
  created_at: number;
  updated_at: number;
  last_seen: number;
  tool_set: number | null;
  /** The text of the agent's tool set (joined). */
  tools: string | null;
}

/** A row of the `tools` table of schema 1. */
interface ToolRow {
  agent_id: string;
  function_name: string;
  capability: string;
  version: string;
  tags: string;
  dependencies: string;
  description: string | null;
  input_schema: string | null;
  output_schema: string | null;
  kwargs: string | null;
}

/** A stored tools text and how many agents use it. */
interface ToolSet {
  readonly id: number;
  readonly tools: string;
  users: number;
}

interface EventRow {
  event_type: string;
  agent_id: string;
  agent_name: string | null;
  timestamp: number;
  data: string | null;
}

/**
 * Opens (creating and migrating as needed) a SQLite registry store.
 *
 * @example
 * ```ts
 * import { SqliteStore } from "./sqlite_store.ts";
 * const store = new SqliteStore(":memory:");
 * console.log(await store.loadAgents()); // []
 * await store.close();
 * ```
 */
export class SqliteStore implements RegistryStore {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  /** The stored tool sets by their text (mirrors `tool_sets`; ahead of it inside a commit). */
  readonly #toolSets = new Map<string, ToolSet>();
  /** The tool set of each agent that has one. */
  readonly #toolSetOfAgent = new Map<string, ToolSet>();

  /**
   * Opens the database and migrates its schema.
   *
   * @param path SQLite file path, or `":memory:"`.
   */
  constructor(path: string) {
    this.#db = new DatabaseSync(path);
    try {
      this.#lock(path);
      this.#db.exec("PRAGMA journal_mode = WAL");
      this.#db.exec("PRAGMA synchronous = NORMAL");
      this.#db.exec("PRAGMA foreign_keys = ON");
      this.#db.exec("PRAGMA busy_timeout = 5000");
      this.#db.exec("PRAGMA cache_size = -32000");
      this.#db.exec("PRAGMA temp_store = MEMORY");
      // Checkpoints run in maintain(), not inside commits; this only bounds the log (~40 MB).
      this.#db.exec(`PRAGMA wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
      this.#migrate();
      this.#readToolSets();
    } catch (error) {
      this.#db.close();
      throw error;
    }
  }

  /**
   * Takes the file for this connection until it closes, failing at once when
   * another process has it.
   */
  #lock(path: string): void {
    this.#db.exec("PRAGMA locking_mode = EXCLUSIVE");
    try {
      this.#db.exec("BEGIN EXCLUSIVE");
      this.#db.exec("COMMIT");
    } catch (error) {
      if (!/locked|busy/i.test((error as Error).message)) throw error;
      throw new Error(
        `database ${path} is in use by another process (a registry database serves one registry)`,
        { cause: error },
      );
    }
  }

  #migrate(): void {
    this.#db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    const row = this.#db.prepare("SELECT MAX(version) AS version FROM schema_version").get() as {
      version: number | null;
    };
    const current = row.version ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new Error(
        `database schema version ${current} is newer than this registry supports (${SCHEMA_VERSION})`,
      );
    }
    for (let version = current + 1; version <= SCHEMA_VERSION; version++) {
      this.#transaction(() => {
        const migration = MIGRATIONS[version - 1];
        if (typeof migration === "string") this.#db.exec(migration);
        else migration(this.#db);
        this.#db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(version);
      });
    }
  }

  /** Fills the tool set maps from the database (on open, and after a rollback undid changes). */
  #readToolSets(): void {
    this.#toolSets.clear();
    this.#toolSetOfAgent.clear();
    const byId = new Map<number, ToolSet>();
    const sets = this.#db.prepare("SELECT id, tools FROM tool_sets").all() as unknown as {
      id: number;
      tools: string;
    }[];
    for (const { id, tools } of sets) {
      const set: ToolSet = { id, tools, users: 0 };
      byId.set(id, set);
      this.#toolSets.set(tools, set);
    }
    const users = this.#db.prepare("SELECT id, tool_set FROM agents WHERE tool_set IS NOT NULL")
      .all() as unknown as { id: string; tool_set: number }[];
    for (const { id, tool_set } of users) {
      const set = byId.get(tool_set);
      if (set === undefined) continue;
      set.users++;
      this.#toolSetOfAgent.set(id, set);
    }
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #transaction(work: () => void): void {
    this.#statement("BEGIN IMMEDIATE").run();
    try {
      work();
      this.#statement("COMMIT").run();
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /** Every stored agent with its tools. */
  loadAgents(): Promise<StoredAgent[]> {
    return settle(() => this.#loadAgents());
  }

  #loadAgents(): StoredAgent[] {
    const rows = this.#statement(SELECT_AGENTS).all() as unknown as AgentRow[];
    return rows.map(agentFromRow);
  }

  /** Applies `changes` in one transaction. */
  commit(changes: StoreChanges): Promise<void> {
    return settle(() => {
      try {
        this.#transaction(() => this.#apply(changes));
      } catch (error) {
        // The rollback undid tool set changes the maps already count.
        this.#readToolSets();
        throw error;
      }
    });
  }

  #apply(changes: StoreChanges): void {
    for (const { agent, replaceTools } of changes.writes ?? []) {
      this.#writeAgent(agent, replaceTools);
    }
    if (changes.lastSeen !== undefined) {
      const touch = this.#statement("UPDATE agents SET last_seen = ? WHERE id = ?");
      for (const [id, time] of changes.lastSeen) touch.run(time, id);
    }
    if (changes.statuses !== undefined) {
      const setStatus = this.#statement("UPDATE agents SET status = ? WHERE id = ?");
      for (const [id, status] of changes.statuses) setStatus.run(status, id);
    }
    if (changes.deletes !== undefined) {
      const deleteAgent = this.#statement("DELETE FROM agents WHERE id = ?");
      for (const id of changes.deletes) {
        deleteAgent.run(id);
        this.#releaseToolSet(id);
      }
    }
    if (changes.events !== undefined) {
      const insert = this.#statement(
        "INSERT INTO events (event_type, agent_id, agent_name, timestamp, data) VALUES (?, ?, ?, ?, ?)",
      );
      for (const event of changes.events) {
        insert.run(
          event.event_type,
          event.agent_id,
          event.agent_name ?? null,
          event.timestamp,
          event.data === undefined ? null : JSON.stringify(event.data),
        );
      }
    }
  }

  #writeAgent(agent: StoredAgent, replaceTools: boolean): void {
    const toolSet = replaceTools ? this.#useToolSet(agent.id, JSON.stringify(agent.tools)) : null;
    this.#statement(UPSERT_AGENT).run(
      agent.id,
      agent.name,
      agent.agent_type,
      agent.runtime ?? null,
      agent.description ?? null,
      agent.version,
      agent.http_host,
      agent.http_port,
      agent.namespace,
      agent.status,
      agent.created_at,
      agent.updated_at,
      agent.last_seen,
      toolSet?.id ?? null,
    );
  }

  /** The tool set with text `tools`, stored when new, now the agent's (in place of its old one). */
  #useToolSet(agentId: string, tools: string): ToolSet {
    let set = this.#toolSets.get(tools);
    if (set === undefined) {
      const { lastInsertRowid } = this.#statement("INSERT INTO tool_sets (tools) VALUES (?)")
        .run(tools);
      set = { id: Number(lastInsertRowid), tools, users: 0 };
      this.#toolSets.set(tools, set);
    }
    set.users++;
    this.#releaseToolSet(agentId);
    this.#toolSetOfAgent.set(agentId, set);
    return set;
  }

  /** Lets go of the agent's tool set, deleting it when no other agent uses it. */
  #releaseToolSet(agentId: string): void {
    const set = this.#toolSetOfAgent.get(agentId);
    if (set === undefined) return;
    this.#toolSetOfAgent.delete(agentId);
    if (--set.users > 0) return;
    this.#statement("DELETE FROM tool_sets WHERE id = ?").run(set.id);
    this.#toolSets.delete(set.tools);
  }

  /** Events matching `query`, newest first. */
  listEvents(query: EventQuery): Promise<RegistryEventInfo[]> {
    return settle(() => this.#listEvents(query));
  }

  #listEvents(query: EventQuery): RegistryEventInfo[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.type !== undefined) {
      where.push("event_type = ?");
      params.push(query.type);
    }
    if (query.agent_id !== undefined) {
      where.push("agent_id = ?");
      params.push(query.agent_id);
    }
    const sql = `SELECT event_type, agent_id, agent_name, timestamp, data FROM events
      ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`;
    const rows = this.#statement(sql).all(...params, query.limit) as unknown as EventRow[];
    return rows.map(eventFromRow);
  }

  /** Deletes all but the newest `keep` events. */
  pruneEvents(keep: number): Promise<void> {
    return settle(() => {
      this.#statement("DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?").run(keep);
    });
  }

  /** Copies the write-ahead log into the database file (a passive checkpoint). */
  maintain(): Promise<void> {
    return settle(() => {
      this.#db.exec("PRAGMA wal_checkpoint(PASSIVE)");
    });
  }

  /** Closes the database. */
  close(): Promise<void> {
    return settle(() => {
      if (this.#db.isOpen) this.#db.close();
    });
  }
}

/** Runs synchronous work, turning its result or exception into a promise. */
function settle<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error);
  }
}

function agentFromRow(row: AgentRow): StoredAgent {
  const agent: StoredAgent = {
    id: row.id,
    name: row.name,
    agent_type: row.agent_type as MeshAgentType,
    version: row.version,
    http_host: row.http_host,
    http_port: row.http_port,
    namespace: row.namespace,
    tools: row.tools === null ? [] : JSON.parse(row.tools),
    status: row.status as AgentStatus,
    created_at: row.created_at,
    updated_at: row.updated_at,
    last_seen: row.last_seen,
  };
  if (row.runtime !== null) agent.runtime = row.runtime;
  if (row.description !== null) agent.description = row.description;
  return agent;
}

function toolFromRow(row: ToolRow): StoredTool {
  const tool: StoredTool = {
    function_name: row.function_name,
    capability: row.capability,
    version: row.version,
    tags: JSON.parse(row.tags),
    dependencies: JSON.parse(row.dependencies),
  };
  if (row.description !== null) tool.description = row.description;
  if (row.input_schema !== null) tool.inputSchema = JSON.parse(row.input_schema);
  if (row.output_schema !== null) tool.outputSchema = JSON.parse(row.output_schema);
  if (row.kwargs !== null) tool.kwargs = JSON.parse(row.kwargs);
  return tool;
}

function eventFromRow(row: EventRow): RegistryEventInfo {
  const event: RegistryEventInfo = {
    event_type: row.event_type as RegistryEventType,
    agent_id: row.agent_id,
    timestamp: new Date(row.timestamp).toISOString(),
  };
  if (row.agent_name !== null) event.agent_name = row.agent_name;
  if (row.data !== null) event.data = JSON.parse(row.data);
  return event;
}
