'use client';
import { type CampaignStatusName, settingsLocked } from '@outbound/domain';
import Link from 'next/link';
import { useParams, useRouter } from 'next/navigation';
import { useClient, useQuery } from 'urql';
import {
  CampaignForm,
  type CampaignSettingsInput,
  type CampaignSettingsValue,
  SETTINGS_FIELDS,
} from '../../../../components/campaign-form';
import { SignedIn } from '../../../../components/session';
import { issuesOf } from '../../../../lib/issues';

const SETTINGS = `query CampaignSettings($id: ID!) { campaign(id: $id) { id status ${SETTINGS_FIELDS} } }`;
const UPDATE = `mutation UpdateCampaign($id: ID!, $input: UpdateCampaignInput!) {
  updateCampaign(id: $id, input: $input) { __typename ... on Campaign { id } ... on Error { message } }
}`;
/** Settings can change while no call is being placed: the gateway's own rule (@outbound/domain). */
const editable = (status: string) => !settingsLocked(status as CampaignStatusName);

function EditCampaign({ id }: { id: string }) {
  const client = useClient();
  const router = useRouter();
  const [{ data, error }] = useQuery<{
    campaign: (CampaignSettingsValue & { id: string; status: string }) | null;
  }>({ query: SETTINGS, variables: { id }, requestPolicy: 'network-only' });
  const campaign = data?.campaign;
  const back = `/campaigns/${encodeURIComponent(id)}`;

  async function save(settings: CampaignSettingsInput) {
    const result = await client
      .mutation<{ updateCampaign: { __typename: string; message?: string } }>(UPDATE, {
        id,
        input: settings,
      })
      .toPromise();
    const answer = result.data?.updateCampaign;
    if (answer?.__typename === 'Campaign') {
      router.push(back);
      return undefined;
    }
    if (answer?.message) return { error: answer.message };
    const issues = issuesOf(result.error);
    return Object.keys(issues).length > 0 ? { issues } : { error: result.error?.message ?? 'not saved' };
  }

  return (
    <main>
      <p>
        <Link href={back}>← Back to the campaign</Link>
      </p>
      <h1>Edit {campaign ? `“${campaign.name}”` : 'campaign'}</h1>
      {error && <p role="alert">{error.message}</p>}
      {data && !campaign && <p role="alert">This campaign does not exist.</p>}
      {campaign && !editable(campaign.status) && (
        <p role="alert">
          This campaign is {campaign.status}: its settings can change only while it is a draft or paused.
        </p>
      )}
      {campaign && editable(campaign.status) && (
        <CampaignForm initial={campaign} campaignId={id} submitLabel="Save changes" onSubmit={save} />
      )}
    </main>
  );
}

export default function EditCampaignPage() {
  const { id } = useParams<{ id: string }>();
  return (
    <SignedIn>
      {(viewer) =>
        viewer.role === 'VIEWER' ? (
          <main>
            <p role="alert">Viewers cannot change campaigns.</p>
          </main>
        ) : (
          <EditCampaign id={decodeURIComponent(id)} />
        )
      }
    </SignedIn>
  );
}
