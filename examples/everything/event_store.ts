/**
 * A bounded in-memory {@link EventStore} that makes SSE streams resumable:
 * a client that lost a stream reconnects with `Last-Event-ID` and receives the
 * events it missed (SEP-1699 polling).
 *
 * @module
 */

import type {
  EventId,
  EventStore,
  StreamId,
} from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types";

/** Default number of events kept per store before the oldest are dropped. */
export const DEFAULT_EVENT_CAPACITY = 1_000;

interface StoredEvent {
  streamId: StreamId;
  message: JSONRPCMessage;
}

/**
 * Keeps the last `capacity` events of one session in insertion order.
 * Event ids are `{streamId}.{sequence}` so each id names its stream.
 */
export class BoundedEventStore implements EventStore {
  readonly #events = new Map<EventId, StoredEvent>();
  readonly #capacity: number;
  #sequence = 0;

  /** Creates a store that keeps at most `capacity` events (oldest dropped first). */
  constructor(capacity: number = DEFAULT_EVENT_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    }
    this.#capacity = capacity;
  }

  /** Number of events currently kept. */
  get size(): number {
    return this.#events.size;
  }

  /** Stores one outgoing message and returns the id it is sent with. */
  storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    const eventId = `${streamId}.${++this.#sequence}`;
    this.#events.set(eventId, { streamId, message });
    if (this.#events.size > this.#capacity) {
      const oldest = this.#events.keys().next().value as EventId;
      this.#events.delete(oldest);
    }
    return Promise.resolve(eventId);
  }

  /** The stream an event id belongs to, if the event is still kept. */
  getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
    return Promise.resolve(this.#events.get(eventId)?.streamId);
  }

  /**
   * Sends every kept event of the same stream that came after `lastEventId`,
   * in order, and returns that stream's id.
   * Throws when the event is unknown (never stored, or already dropped).
   */
  async replayEventsAfter(
    lastEventId: EventId,
    { send }: { send: (eventId: EventId, message: JSONRPCMessage) => Promise<void> },
  ): Promise<StreamId> {
    const last = this.#events.get(lastEventId);
    if (!last) throw new Error(`Unknown or expired event id: ${lastEventId}`);
    let after = false;
    for (const [eventId, event] of [...this.#events]) {
      if (eventId === lastEventId) {
        after = true;
      } else if (after && event.streamId === last.streamId && !isPrimingEvent(event.message)) {
        await send(eventId, event.message);
      }
    }
    return last.streamId;
  }
}

/** Priming events carry an empty payload and only exist to hand out an event id. */
function isPrimingEvent(message: JSONRPCMessage): boolean {
  return Object.keys(message).length === 0;
}
