// The schema: each domain file registers its types, queries and mutations on the builder; importing them in this
// order builds the whole API.
import { builder } from '../builder.ts';
import './common.ts';
import './enums.ts';
import './viewer.ts';
import './call-flow.ts';
import './campaign.ts';
import './call.ts';
import './call-waits.ts';
import './call-flow-preview.ts';
import './call-history.ts';
import './throughput.ts';
import './targets.ts';
import './do-not-call.ts';
import './api-keys.ts';
import './people.ts';
import './audit.ts';
import './tenant-settings.ts';
import './dead-letters.ts';
import './webhooks.ts';
import './live.ts';

export const schema = builder.toSchema({ sortSchema: true });
