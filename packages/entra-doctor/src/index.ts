/**
 * Checks the portal's Entra configuration and tenant.
 *
 * @packageDocumentation
 */
export { runDoctor } from './doctor';
export type { DoctorCheck, DoctorInput } from './doctor';
