import { builder } from './builder.ts';
import './call-detail-record.ts';

/** The public GraphQL schema. */
export const schema = builder.toSchema({ sortSchema: false });
