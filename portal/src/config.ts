// Runtime settings, read from /config.json next to index.html: one build serves every environment.
export interface PortalConfig {
  apiUrl: string;
  issuer: string;
  clientId: string;
  redirectPath?: string;
}

let cached: Promise<PortalConfig> | null = null;

export function loadConfig(): Promise<PortalConfig> {
  if (!cached) {
    cached = fetch('/config.json', { cache: 'no-cache' }).then(async (r) => {
      if (!r.ok) throw new Error('The portal configuration could not be loaded.');
      const c = (await r.json()) as PortalConfig;
      return { ...c, apiUrl: c.apiUrl.replace(/\/$/, ''), issuer: c.issuer.replace(/\/$/, '') };
    });
  }
  return cached;
}
