import {
  IndexableResultSet,
  SearchQuery,
} from '@backstage/plugin-search-common';
import { LunrSearchEngine } from '@backstage/plugin-search-backend-node';

/**
 * Lunr, as upstream, except that asking for result types none of which has
 * documents yet answers an empty page.
 *
 * Upstream throws MissingIndexError, which the search router turns into a 500
 * ("Missing index for techdocs"). The search page asks for every result type
 * it shows, counts included, so a portal without TechDocs pages (or one whose
 * first index has not run) logged a 500 on every visit. A type with no
 * documents has no results; that is also what the PostgreSQL engine answers.
 */
export class TypedLunrSearchEngine extends LunrSearchEngine {
  override async query(query: SearchQuery): Promise<IndexableResultSet> {
    const types = query.types?.filter(type => type);
    if (types?.length && !types.some(type => this.lunrIndices[type])) {
      return { results: [], numberOfResults: 0 };
    }
    return super.query(query);
  }
}
