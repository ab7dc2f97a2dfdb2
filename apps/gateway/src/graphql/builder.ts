import { getDatamodel, type PothosPrismaTypes } from '@outbound/db';
import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ValidationPlugin from '@pothos/plugin-validation';
import { hasRole } from '../auth/viewer.ts';
import type { Upload } from '../http/streaming-uploads.ts';
import type { GraphQLContext } from './context.ts';
import { badInput, refusal } from './errors.ts';

export interface BuilderTypes {
  Context: GraphQLContext;
  PrismaTypes: PothosPrismaTypes;
  AuthScopes: { authenticated: boolean; viewer: boolean; operator: boolean; admin: boolean };
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
    File: { Input: Upload; Output: never };
  };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: true;
}

// Scope auth first: authorization runs before validation and resolution, so an unauthorised caller learns nothing
// about the shape of valid input.
export const builder = new SchemaBuilder<BuilderTypes>({
  plugins: [ScopeAuthPlugin, PrismaPlugin, RelayPlugin, ErrorsPlugin, ValidationPlugin],
  defaultFieldNullability: false,
  defaultInputFieldRequiredness: true,
  scopeAuth: {
    authScopes: (ctx) => ({
      authenticated: ctx.viewer !== null,
      viewer: hasRole(ctx.viewer, 'VIEWER'),
      operator: hasRole(ctx.viewer, 'OPERATOR'),
      admin: hasRole(ctx.viewer, 'ADMIN'),
    }),
    unauthorizedError: (_parent, ctx) => refusal(ctx),
  },
  prisma: {
    client: (ctx) => ctx.deps.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    onUnusedQuery: null,
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
  },
  errors: {
    defaultTypes: [],
    // `createCampaign: CreateCampaignResult = Campaign | NotFoundError | ...`: no wrapper object around the data.
    directResult: true,
    defaultUnionOptions: {
      name: ({ fieldName }) => `${fieldName.charAt(0).toUpperCase()}${fieldName.slice(1)}Result`,
    },
  },
  validation: {
    validationError: (failure) =>
      badInput(failure.issues.map((issue) => ({ path: pathOf(issue.path), message: issue.message }))),
  },
});

function pathOf(path: readonly (PropertyKey | { key: PropertyKey })[] | undefined): string {
  return (
    (path ?? []).map((part) => String(typeof part === 'object' ? part.key : part)).join('.') || '(input)'
  );
}

builder.queryType({});
builder.mutationType({});
