import { GraphQLError } from 'graphql';
import type { Upload } from '../../http/streaming-uploads.ts';
import { builder } from '../builder.ts';
import {
  CampaignIncompleteError,
  CampaignLockedError,
  type DomainError,
  InvalidCredentialsError,
  InvalidTransitionError,
  NotFoundError,
  TargetImportError,
} from '../errors.ts';

builder.scalarType('DateTime', {
  description: 'An instant, as an ISO 8601 string with time zone (e.g. 2026-11-28T09:00:00Z).',
  serialize: (value) => (value as Date).toISOString(),
  parseValue: (value) => {
    const date = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? new Date(value) : null;
    if (!date || Number.isNaN(date.getTime())) {
      throw new GraphQLError('DateTime must be an ISO 8601 date-time string such as 2026-11-28T09:00:00Z', {
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    return date;
  },
});

builder.scalarType('JSON', {
  description: 'Any JSON value.',
  serialize: (value) => value,
  parseValue: (value) => value,
});

builder.scalarType('File', {
  description: 'A file sent with the GraphQL multipart request specification.',
  serialize: () => {
    throw new Error('File is an input-only scalar');
  },
  parseValue: (value) => {
    if (!(value instanceof Object) || typeof (value as Upload).stream !== 'function') {
      throw new GraphQLError('expected a file upload (multipart request)', {
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    return value as Upload;
  },
});

/** Every expected failure implements this interface: `... on Error { code message }` works on any result. */
export const ErrorInterface = builder.interfaceRef<DomainError>('Error').implement({
  fields: (t) => ({
    code: t.exposeString('code'),
    message: t.exposeString('message'),
  }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof NotFoundError,
});

builder.objectType(CampaignLockedError, {
  name: 'CampaignLockedError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof CampaignLockedError,
  fields: (t) => ({ status: t.exposeString('status') }),
});

builder.objectType(CampaignIncompleteError, {
  name: 'CampaignIncompleteError',
  description: 'The campaign lacks a setting the command needs; `field` names it (e.g. callFlow).',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof CampaignIncompleteError,
  fields: (t) => ({ field: t.exposeString('field') }),
});

builder.objectType(InvalidTransitionError, {
  name: 'InvalidTransitionError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof InvalidTransitionError,
  fields: (t) => ({
    status: t.exposeString('status'),
    allowedFrom: t.stringList({ resolve: (error) => [...error.allowedFrom] }),
  }),
});

builder.objectType(InvalidCredentialsError, {
  name: 'InvalidCredentialsError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof InvalidCredentialsError,
});

builder.objectType(TargetImportError, {
  name: 'TargetImportError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof TargetImportError,
});
