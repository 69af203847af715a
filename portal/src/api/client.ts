// The API client: openapi-fetch over the types generated from docs/openapi.yaml (npm run gen).
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';
import { currentSession, signOut } from '../auth';
import { loadConfig } from '../config';

export type Schemas = components['schemas'];
export type Case = Schemas['Case'];
export type CaseSummary = Schemas['CaseSummary'];
export type CaseStatus = Schemas['CaseStatus'];
export type Me = Schemas['Me'];
/** A problem document: the API's (with its request id), or one the portal makes itself (none). */
export type Problem = Omit<Schemas['Problem'], 'requestId' | 'current'> & { requestId?: string; current?: unknown };
export type FieldError = Schemas['FieldError'];
export type TimelineEntry = Schemas['TimelineEntry'];
export type Referral = Schemas['Referral'];
export type ReferralForm = Schemas['ReferralForm'];
export type SubmitResult = Schemas['SubmitReferralResult'];

export type Api = ReturnType<typeof createClient<paths>>;

/** Thrown when the API says the token is missing or no longer valid. */
export class SignInRequired extends Error {}

const auth: Middleware = {
  onRequest({ request }) {
    const s = currentSession();
    if (s) request.headers.set('Authorization', `Bearer ${s.token}`);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) {
      // the session has ended (expired or refused): back to the sign-in page, saying why
      signOut();
      window.dispatchEvent(new CustomEvent('portal:signed-out'));
      throw new SignInRequired('Your session has ended. Sign in again to continue.');
    }
    return response;
  },
  onError() {
    // the network or the API could not be reached: an answer the pages already know how to show
    const problem = { type: 'about:blank', title: 'The service could not be reached', status: 503, detail: 'Check your connection and try again. Nothing was saved.' };
    return new Response(JSON.stringify(problem), { status: 503, headers: { 'content-type': 'application/problem+json' } });
  },
};

let client: Promise<Api> | null = null;

export function api(): Promise<Api> {
  if (!client) {
    client = loadConfig().then((cfg) => {
      const c = createClient<paths>({ baseUrl: cfg.apiUrl });
      c.use(auth);
      return c;
    });
  }
  return client;
}

/** A problem document from an error body, or a generic one. */
export function asProblem(error: unknown, status?: number): Problem {
  if (error && typeof error === 'object' && 'title' in error) return error as Problem;
  return { type: 'about:blank', title: 'Something went wrong', status: status ?? 500, detail: 'Try again. If it keeps happening, contact the service desk.' };
}
