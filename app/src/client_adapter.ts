/**
 * The app's one door to the gateway's WebSocket protocol: the repository's typed client module
 * (`client.ts`), the same one a desk's TypeScript strategy uses — reconnect with backoff,
 * resubscription with `since` recovery, local books with the `seq` check, typed frames.
 * @module
 */
export * from "../../client.ts";
