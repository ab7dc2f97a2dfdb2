/**
 * A call flow for tests that are not about flows (as CallFlowInput, for the API, or for ZCallFlow): a message and
 * nothing else. No menu, so no simulated keypress opts a number out or transfers it and changes a test's numbers; a
 * machine is hung up on.
 */
export const MESSAGE_ONLY_FLOW = {
  message: { kind: 'SAY', text: 'Hello, this is a test call from Acme. Goodbye.' },
} as const;
