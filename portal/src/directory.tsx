// Reference data from the API's directory (GET /providers, /providers/{id}, /schools/{id}),
// fetched once per page load and shared.
import { useEffect, useState } from 'react';
import { api, type Schemas } from './api/client';

let providers: Promise<Map<string, Schemas['ProviderRef']>> | null = null;

export function providerDirectory(): Promise<Map<string, Schemas['ProviderRef']>> {
  if (!providers) {
    providers = api().then(async (c) => {
      const { data } = await c.GET('/providers');
      return new Map((data?.items ?? []).map((p) => [p.id, p]));
    });
    providers.catch(() => (providers = null));
  }
  return providers;
}

/** "Kaitaia Attendance Service (P01)", or the id while the name is loading or unknown. */
export function useProviderName(id?: string): string {
  const [name, setName] = useState<string | undefined>();
  useEffect(() => {
    if (!id) return;
    let live = true;
    void providerDirectory().then((m) => live && setName(m.get(id)?.name));
    return () => {
      live = false;
    };
  }, [id]);
  if (!id) return '';
  return name ? `${name} (${id})` : id;
}

export function ProviderName({ id }: { id?: string }) {
  return <>{useProviderName(id)}</>;
}

export async function school(id: string): Promise<Schemas['SchoolDirectory'] | null> {
  const { data } = await (await api()).GET('/schools/{id}', { params: { path: { id } } });
  return data ?? null;
}

export async function provider(id: string): Promise<Schemas['ProviderDirectory'] | null> {
  const { data } = await (await api()).GET('/providers/{id}', { params: { path: { id } } });
  return data ?? null;
}
