// GraphQL Code Generator loads a document transform from a file by path, and reads its `transform`: this file
// hands it the client preset's own transform, which a YAML config cannot import (graphql.config.yml).
import { addTypenameSelectionDocumentTransform } from '@graphql-codegen/client-preset';

export const { transform } = addTypenameSelectionDocumentTransform;
