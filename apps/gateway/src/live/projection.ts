// The subscriptions the fan-out serves without a GraphQL execution per message (live/fanout.ts): `campaignStats` and
// `wallboard` selecting CampaignCounters' scalar fields (aliases and __typename allowed). Anything else (`answers`,
// fragments, directives, another root field) is executed as before. A projection renders a counters row as the
// `payload` of a graphql-ws `next` message, the same JSON an execution of that selection produces.
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import {
  type DocumentNode,
  type FieldNode,
  type GraphQLScalarType,
  type GraphQLSchema,
  getOperationAST,
  Kind,
  type ValueNode,
} from 'graphql';
import { COUNTER_KPIS, type CountersRow, kpiCountersOf, progressOf } from './reads.ts';

export type FastField = 'campaignStats' | 'wallboard';

export interface Projection {
  field: FastField;
  /** `{"data":{"<root key>":{…}}}` for one row. */
  render(row: CountersRow): string;
}

/** A subscription the fan-out serves: its projection, and the campaign it names (campaignStats). */
export interface FastPlan {
  projection: Projection;
  /** The campaign id the argument names (decoded from its global id); null for the wallboard. */
  campaignId: string | null;
}

type Scalar = (row: CountersRow, serializeDate: (d: Date) => unknown) => unknown;

const COUNTS = [
  'total',
  'pending',
  'queued',
  'dialing',
  'inProgress',
  'retryScheduled',
  'completed',
  'failed',
  'skipped',
  'cancelled',
  'attempts',
  'answeredByPerson',
  'answeredByMachine',
  'messagesPlayed',
  'voicemailsLeft',
  'optOuts',
  'transfers',
  'transfersAnswered',
  'flowErrors',
  'outcomeAnswered',
  'outcomeBusy',
  'outcomeNoAnswer',
  'outcomeFailed',
  'outcomeVoicemail',
  'outcomeRejected',
  'outcomeCanceled',
] as const;

/** CampaignCounters' fields the fan-out renders, as graphql/schema/campaign.ts resolves and serialises them. */
const SCALARS: ReadonlyMap<string, Scalar> = new Map<string, Scalar>([
  ['__typename', () => 'CampaignCounters'],
  ['campaignId', (c) => encodeGlobalID('Campaign', c.campaignId)],
  ...COUNTS.map((name): [string, Scalar] => [name, (c) => c[name]]),
  ['version', (c) => c.version.toString()],
  ['updatedAt', (c, serializeDate) => serializeDate(c.updatedAt)],
  ['progress', (c) => progressOf(c)],
  ...Object.entries(COUNTER_KPIS).map(([name, kpi]): [string, Scalar] => [
    name,
    (c) => kpi.of(kpiCountersOf(c)),
  ]),
]);

/** The fields a selection renders, in order, by response key; null when it selects anything else. */
function leafFields(field: FieldNode): [string, Scalar][] | null {
  const selections = field.selectionSet?.selections ?? [];
  const fields = new Map<string, Scalar>();
  for (const s of selections) {
    if (s.kind !== Kind.FIELD || s.selectionSet || (s.directives?.length ?? 0) > 0) return null;
    const scalar = SCALARS.get(s.name.value);
    if (!scalar) return null;
    const key = s.alias?.value ?? s.name.value;
    if (!fields.has(key)) fields.set(key, scalar);
  }
  return fields.size > 0 ? [...fields] : null;
}

function projectionOf(schema: GraphQLSchema, root: FieldNode): Projection | null {
  const field = root.name.value;
  if (field !== 'campaignStats' && field !== 'wallboard') return null;
  const fields = leafFields(root);
  if (!fields) return null;
  const dateTime = schema.getType('DateTime') as GraphQLScalarType;
  const serializeDate = (d: Date) => dateTime.serialize(d);
  const rootKey = JSON.stringify(root.alias?.value ?? field);
  return {
    field,
    render(row) {
      const data: Record<string, unknown> = {};
      for (const [key, scalar] of fields) data[key] = scalar(row, serializeDate);
      return `{"data":{${rootKey}:${JSON.stringify(data)}}}`;
    },
  };
}

/** The subscription's one root field, when the operation is a subscription without directives on it. */
function rootField(document: DocumentNode, operationName: string | null | undefined): FieldNode | null {
  const operation = getOperationAST(document, operationName);
  if (operation?.operation !== 'subscription' || (operation.directives?.length ?? 0) > 0) return null;
  const [root, ...more] = operation.selectionSet.selections;
  if (!root || more.length > 0 || root.kind !== Kind.FIELD || (root.directives?.length ?? 0) > 0) return null;
  return root;
}

/** The campaign a `campaignId` argument names, if it is a Campaign global id; else null (executed, to fail there). */
function campaignArgument(root: FieldNode, variables: Record<string, unknown> | null | undefined) {
  const arg = root.arguments?.find((a) => a.name.value === 'campaignId')?.value;
  const value = (node: ValueNode | undefined): unknown =>
    node?.kind === Kind.VARIABLE
      ? variables?.[node.name.value]
      : node?.kind === Kind.STRING
        ? node.value
        : null;
  const raw = value(arg);
  if (typeof raw !== 'string') return null;
  try {
    const { typename, id } = decodeGlobalID(raw);
    return typename === 'Campaign' ? id : null;
  } catch {
    return null;
  }
}

/** Most distinct queries whose projection is kept (cleared when full: a client sending random queries). */
const MAX_CACHED = 1000;

/**
 * Decides, per validated subscription, whether the fan-out serves it. The projection is computed once per distinct
 * query text and operation name (and shared by every subscriber sending it: the fan-out renders each message once
 * per projection), the campaign argument per subscription.
 */
export class Projections {
  private readonly cache = new Map<string, Projection | null>();

  constructor(private readonly schema: GraphQLSchema) {}

  plan(
    query: string,
    document: DocumentNode,
    operationName: string | null | undefined,
    variables: Record<string, unknown> | null | undefined,
  ): FastPlan | null {
    const root = rootField(document, operationName);
    if (!root) return null;
    const projection = this.projection(`${operationName ?? ''}\n${query}`, root);
    if (!projection) return null;
    if (projection.field === 'wallboard') return { projection, campaignId: null };
    const campaignId = campaignArgument(root, variables);
    return campaignId ? { projection, campaignId } : null;
  }

  private projection(key: string, root: FieldNode): Projection | null {
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    const projection = projectionOf(this.schema, root);
    this.cache.set(key, projection);
    return projection;
  }
}
