/**
 * Helpers for tests that run against the emulator: start one on free ports
 * (trusting its CA in-process), walk the login page as a browser would, and
 * record where connections went.
 *
 * @packageDocumentation
 */
export { startTestEmulator, trustCa, recordConnections } from './testEmulator';
export { signInThroughBrowser, parseLoginForm } from './browser';
