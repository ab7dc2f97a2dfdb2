'use client';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useClient, useQuery } from 'urql';
import { CampaignForm, type CampaignSettingsInput } from '../../../components/campaign-form';
import { SignedIn, type Viewer } from '../../../components/session';
import { issuesOf } from '../../../lib/issues';

const CREATE = `mutation CreateCampaign($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`;
const SETTINGS = '{ tenantSettings { defaultTimezone } }';
const MAKE_DEFAULT =
  'mutation MakeZoneDefault($zone: String!) { updateTenantSettings(defaultTimezone: $zone) { defaultTimezone } }';

function NewCampaign({ viewer }: { viewer: Viewer }) {
  const client = useClient();
  const router = useRouter();
  // The form starts with the tenant's zone: it waits for it (the form's first state is made once).
  const [{ data, error }, refetch] = useQuery<{ tenantSettings: { defaultTimezone: string | null } }>({
    query: SETTINGS,
  });
  async function makeDefault(zone: string) {
    await client.mutation(MAKE_DEFAULT, { zone }).toPromise();
    refetch({ requestPolicy: 'network-only' });
  }
  async function create(settings: CampaignSettingsInput) {
    const result = await client
      .mutation<{ createCampaign: { id: string } }>(CREATE, { input: settings })
      .toPromise();
    const id = result.data?.createCampaign.id;
    if (id) {
      router.push(`/campaigns/${encodeURIComponent(id)}#targets`);
      return undefined;
    }
    const issues = issuesOf(result.error);
    return Object.keys(issues).length > 0 ? { issues } : { error: result.error?.message ?? 'not saved' };
  }
  return (
    <main>
      <p>
        <Link href="/campaigns">← All campaigns</Link>
      </p>
      <h1>New campaign</h1>
      <p className="muted">Saved as a draft: add its numbers next, then start it.</p>
      {error && <p role="alert">{error.message}</p>}
      {data ? (
        <CampaignForm
          initial={null}
          defaultZone={data.tenantSettings.defaultTimezone}
          onMakeZoneDefault={viewer.role === 'ADMIN' ? makeDefault : undefined}
          submitLabel="Create campaign"
          onSubmit={create}
        />
      ) : (
        !error && <div aria-busy="true" />
      )}
    </main>
  );
}

export default function NewCampaignPage() {
  return (
    <SignedIn>
      {(viewer) =>
        viewer.role === 'VIEWER' ? (
          <main>
            <p role="alert">Viewers cannot create campaigns.</p>
          </main>
        ) : (
          <NewCampaign viewer={viewer} />
        )
      }
    </SignedIn>
  );
}
