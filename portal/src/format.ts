import type { CaseStatus, Me, Schemas } from './api/client';

export const STATUS_LABEL: Record<CaseStatus, string> = {
  awaiting_allocation: 'Awaiting allocation',
  cit_review: 'CIT review',
  provider_queue: 'Provider Queue',
  open: 'Open',
  transition: 'Transition',
  paused: 'Paused',
  closed: 'Closed',
};

export const STATUS_ORDER: CaseStatus[] = ['cit_review', 'awaiting_allocation', 'provider_queue', 'open', 'transition', 'paused', 'closed'];

export const ROLE_LABEL: Record<Me['role'], string> = {
  attendance_lead: 'Attendance Lead',
  school_primary_contact: 'School Primary Contact',
  office_support: 'Office Support',
  case_manager: 'Case Manager',
  provider_admin: 'Provider admin',
  cit: 'Central Investigations Team (CIT)',
  regional: 'Regional staff',
  national: 'National staff',
  prosecutions: 'Prosecutions',
};

export const CLOSE_REASON: Record<string, string> = {
  attending_regularly: 'Attending regularly',
  engaged_with_school_support: 'Engaged with school support',
  chose_not_to_continue: 'Aged 16 or over and chose not to continue',
  closed_by_cit: 'Closed by CIT',
};

/** The guide's barriers to attendance, as the provider records them. */
export const BARRIER_LABEL: Record<string, string> = {
  housing_instability: 'Housing instability',
  poverty: 'Poverty',
  mental_health_or_addiction: 'Mental health or addiction',
  disability_or_learning_needs: 'Disability or additional learning needs',
  bullying: 'Bullying',
  wellbeing_behaviour_or_social: 'Wellbeing, behavioural or social issues',
  school_whanau_relationship: 'School–whānau relationship',
  transport: 'Transport',
  other: 'Other',
};

export const BARRIER_STATE: Record<string, string> = {
  identified: 'Identified',
  being_addressed: 'Being addressed',
  resolved: 'Resolved',
};

/** The steps the provider consults the school about first (the guide's "key points"). */
export const STEP_LABEL: Record<string, string> = {
  transition: 'Moving the case into Transition',
  formal_communication: 'A formal communication to the caregivers',
  prosecution_referral: 'A prosecution referral',
  section_19: 'A section 19 referral to Oranga Tamariki',
  multi_agency_forum: 'A multi-agency forum referral',
};

export const ESCALATION_LABEL: Record<string, string> = {
  formal_communication: 'Formal communication to the caregivers',
  prosecution_referral: 'Referral to the Ministry’s Prosecutions team',
  section_19: 'Section 19 referral to Oranga Tamariki',
  multi_agency_forum: 'Referral to a multi-agency forum',
};

export const COMM_METHOD: Record<string, string> = {
  letter: 'Letter',
  email: 'Email',
  hand_delivered: 'Delivered by hand',
  in_person: 'In person',
};

export const DECISION_LABEL: Record<string, string> = {
  accepted: 'Accepted',
  declined: 'Declined',
};

export const AGENCY_LABEL: Record<string, string> = {
  oranga_tamariki: 'Oranga Tamariki',
  police: 'Police',
  health: 'Health',
  social_services: 'Social services',
  msd: 'Ministry of Social Development (MSD)',
  other: 'Other',
};

export const FUND_LABEL: Record<string, string> = {
  clothing: 'Clothing',
  transport: 'Transport',
  equipment: 'Equipment',
  food: 'Food',
  other: 'Other',
};

/** Cents as New Zealand dollars: 123456 → "$1,234.56". */
export function formatCents(cents: number): string {
  return new Intl.NumberFormat('en-NZ', { style: 'currency', currency: 'NZD', currencyDisplay: 'narrowSymbol' }).format(cents / 100);
}

/** "45", "45.5", "$1,045.50" → cents; null when it is not an amount in dollars and cents. */
export function parseDollars(text: string): number | null {
  const t = text.trim().replace(/^\$/, '').replace(/,/g, '');
  if (!/^\d+(\.\d{1,2})?$/.test(t)) return null;
  const [d, c = ''] = t.split('.');
  return Number(d) * 100 + Number(c.padEnd(2, '0'));
}

export const ACTIVITY_LABEL: Record<string, string> = {
  school_meeting: 'Meeting with the school',
  whanau_meeting: 'Meeting with the ākonga and whānau',
  phone_call: 'Phone call',
  home_visit: 'Home visit',
  other: 'Other',
};

const dateFmt = new Intl.DateTimeFormat('en-NZ', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Pacific/Auckland' });
const dateTimeFmt = new Intl.DateTimeFormat('en-NZ', { day: 'numeric', month: 'short', year: 'numeric', hour: 'numeric', minute: '2-digit', timeZone: 'Pacific/Auckland' });

/** 2026-12-09 or an RFC 3339 time, as "9 December 2026". */
export function formatDate(d?: string | null): string {
  if (!d) return '';
  const date = /^\d{4}-\d{2}-\d{2}$/.test(d) ? new Date(`${d}T12:00:00+13:00`) : new Date(d);
  return Number.isNaN(date.getTime()) ? d : dateFmt.format(date);
}

export function formatDateTime(d?: string | null): string {
  if (!d) return '';
  const date = new Date(d);
  return Number.isNaN(date.getTime()) ? d : dateTimeFmt.format(date);
}

/** Whole days since an RFC 3339 time. */
export function ageInDays(since: string, now = Date.now()): number {
  return Math.max(0, Math.floor((now - new Date(since).getTime()) / 86_400_000));
}

export function ageText(since: string): string {
  const d = ageInDays(since);
  return d === 0 ? 'today' : d === 1 ? '1 day' : `${d} days`;
}

type SlaView = Schemas['SlaView'];
type SlaState = { state: string; on?: string; by?: string; due?: string; met_late?: boolean };

export const SLA_LABEL: Record<SlaView['kind'], string> = {
  school_meeting: 'Case Manager meets the school (5 working days)',
  whanau_meeting: 'Case Manager meets the ākonga and whānau (10 working days)',
};

/** "Met on 3 December 2026", "Due by 9 December 2026", "Overdue: was due 9 December 2026". */
export function slaText(s: SlaView): { text: string; tone: 'ok' | 'due' | 'late' } {
  const st = s.state as SlaState;
  switch (st.state) {
    case 'met':
      return { text: st.on ? `Met on ${formatDate(st.on)}${st.met_late ? ' (late)' : ''}` : 'Met', tone: st.met_late ? 'due' : 'ok' };
    case 'due':
      return { text: `Due by ${formatDate(st.by ?? s.due)}`, tone: 'due' };
    case 'breached':
      return { text: `Overdue: was due ${formatDate(st.due ?? s.due)}`, tone: 'late' };
    case 'not_met':
      return { text: 'Not met', tone: 'late' };
    default:
      return { text: st.state, tone: 'due' };
  }
}

export function isSchool(me: Me): boolean {
  return me.organisation.kind === 'school';
}
export function isProvider(me: Me): boolean {
  return me.organisation.kind === 'provider';
}
export function orgText(me: Me): string {
  const o = me.organisation;
  if (o.kind === 'school') return `School ${o.id ?? ''}`.trim();
  if (o.kind === 'provider') return `Provider ${o.id ?? ''}`.trim();
  return o.regionId ? `Ministry of Education, region ${o.regionId}` : 'Ministry of Education';
}
