/**
 * The one piece of state the everything agent shares between its sessions: a
 * text resource that can change, so subscribers get `notifications/resources/updated`.
 *
 * @module
 */

/** URI of the resource that changes and can be subscribed to. */
export const WATCHED_RESOURCE_URI = "test://watched-resource";

/** Text of the watched resource until someone updates it. */
export const WATCHED_RESOURCE_INITIAL_TEXT = "Watched resource content";

/**
 * A text resource shared by every session; dispatches a `"change"` event on update.
 * Sessions listen to it and notify their own subscribed clients.
 */
export class WatchedResource extends EventTarget {
  #text: string;

  /** Creates the resource with its initial text. */
  constructor(text: string = WATCHED_RESOURCE_INITIAL_TEXT) {
    super();
    this.#text = text;
  }

  /** Current text of the resource. */
  get text(): string {
    return this.#text;
  }

  /** Replaces the text and tells every listener. */
  update(text: string): void {
    this.#text = text;
    this.dispatchEvent(new Event("change"));
  }
}
