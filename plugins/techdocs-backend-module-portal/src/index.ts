/**
 * TechDocs modules of the portal: docs on the backend's own disk are built
 * from a copy, never in place.
 *
 * @packageDocumentation
 */
export { techdocsModuleLocalCopyPreparer as default } from './module';
export { LocalCopyPreparer } from './LocalCopyPreparer';
