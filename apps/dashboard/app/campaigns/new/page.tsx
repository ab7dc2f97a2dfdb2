'use client';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useClient } from 'urql';
import { CampaignForm, type CampaignSettingsInput } from '../../../components/campaign-form';
import { SignedIn } from '../../../components/session';
import { issuesOf } from '../../../lib/issues';

const CREATE = `mutation CreateCampaign($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`;

function NewCampaign() {
  const client = useClient();
  const router = useRouter();
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
      <CampaignForm initial={null} submitLabel="Create campaign" onSubmit={create} />
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
          <NewCampaign />
        )
      }
    </SignedIn>
  );
}
