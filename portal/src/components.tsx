import { useEffect, useRef, type ReactNode } from 'react';
import type { FieldError, Problem } from './api/client';

/** `student.dateOfBirth` -> `f-student-dateOfBirth`; `whanau[0].phone` -> `f-whanau-0-phone`. */
export function fieldId(path: string): string {
  return 'f-' + path.replace(/[.[\]]+/g, '-').replace(/-$/, '');
}

/** The API's field message as a sentence: fragments ("must be ...") get the field's label. */
export function fieldMessage(label: string, message: string): string {
  if (/^(must|is|are|has|have|cannot|can|should|may|needs?) /.test(message)) return `${label} ${message}`;
  if (/^[a-z]/.test(message)) return `${label}: ${message[0].toUpperCase()}${message.slice(1)}`;
  return message;
}

export interface SummaryItem {
  field: string;
  text: string;
}

/** GOV.UK-style error summary: at the top, focused when it appears, each item links to its field. */
export function ErrorSummary({ items, title = 'There is a problem' }: { items: SummaryItem[]; title?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (items.length) ref.current?.focus();
  }, [items]);
  if (!items.length) return null;
  return (
    <div className="error-summary" ref={ref} tabIndex={-1} role="alert" aria-labelledby="error-summary-title">
      <h2 id="error-summary-title">{title}</h2>
      <ul>
        {items.map((i) => (
          <li key={i.field + i.text}>
            <a
              href={`#${fieldId(i.field)}`}
              onClick={(e) => {
                const el = document.getElementById(fieldId(i.field));
                if (el) {
                  e.preventDefault();
                  el.focus();
                  el.scrollIntoView({ block: 'center' });
                }
              }}
            >
              {i.text}
            </a>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** A problem that is not about one field: what happened and the id to quote to the service desk. */
export function ProblemBanner({ problem }: { problem: Problem | null }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (problem) ref.current?.focus();
  }, [problem]);
  if (!problem) return null;
  return (
    <div className="error-summary" ref={ref} tabIndex={-1} role="alert">
      <h2>{problem.title}</h2>
      {problem.detail && <p>{problem.detail}</p>}
      {problem.requestId && <p className="hint">Reference for the service desk: {problem.requestId}</p>}
    </div>
  );
}

export function Notice({ children }: { children: ReactNode }) {
  return (
    <div className="notice" role="status">
      {children}
    </div>
  );
}

interface FieldProps {
  path: string;
  label: string;
  hint?: string;
  error?: string;
  children: (props: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: boolean }) => ReactNode;
}

export function Field({ path, label, hint, error, children }: FieldProps) {
  const id = fieldId(path);
  const describedBy = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${error ? ' field-error' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p className="error-message" id={`${id}-error`}>
          <span className="visually-hidden">Error: </span>
          {error}
        </p>
      )}
      {children({ id, 'aria-describedby': describedBy, 'aria-invalid': error ? true : undefined })}
    </div>
  );
}

export function TextInput(
  props: Omit<FieldProps, 'children'> & { value: string; onChange: (v: string) => void; type?: string; inputMode?: 'numeric' | 'email' | 'tel' | 'text'; autoComplete?: string; className?: string },
) {
  const { value, onChange, type = 'text', inputMode, autoComplete, className, ...f } = props;
  return (
    <Field {...f}>
      {(a) => <input {...a} name={f.path} className={className} type={type} inputMode={inputMode} autoComplete={autoComplete ?? 'off'} value={value} onChange={(e) => onChange(e.target.value)} />}
    </Field>
  );
}

export function TextArea(props: Omit<FieldProps, 'children'> & { value: string; onChange: (v: string) => void; rows?: number }) {
  const { value, onChange, rows = 4, ...f } = props;
  return <Field {...f}>{(a) => <textarea {...a} name={f.path} rows={rows} value={value} onChange={(e) => onChange(e.target.value)} />}</Field>;
}

export function Select(props: Omit<FieldProps, 'children'> & { value: string; onChange: (v: string) => void; options: [string, string][]; className?: string }) {
  const { value, onChange, options, className, ...f } = props;
  return (
    <Field {...f}>
      {(a) => (
        <select {...a} name={f.path} className={className} value={value} onChange={(e) => onChange(e.target.value)}>
          {options.map(([v, l]) => (
            <option key={v} value={v}>
              {l}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/** A group of radios; the first radio carries the field's id so error links land on it. */
export function Radios(props: { path: string; legend: string; hint?: string; error?: string; value: string; onChange: (v: string) => void; options: [string, string][] }) {
  const { path, legend, hint, error, value, onChange, options } = props;
  const id = fieldId(path);
  return (
    <fieldset className={`field${error ? ' field-error' : ''}`} aria-describedby={[hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined}>
      <legend>{legend}</legend>
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p className="error-message" id={`${id}-error`}>
          <span className="visually-hidden">Error: </span>
          {error}
        </p>
      )}
      {options.map(([v, l], i) => (
        <div className="radio" key={v}>
          <input type="radio" id={i === 0 ? id : `${id}-${v}`} name={path} value={v} checked={value === v} onChange={() => onChange(v)} />
          <label htmlFor={i === 0 ? id : `${id}-${v}`}>{l}</label>
        </div>
      ))}
    </fieldset>
  );
}

export function Checkbox({ id, label, checked, onChange, hint }: { id: string; label: string; checked: boolean; onChange: (v: boolean) => void; hint?: string }) {
  return (
    <div className="checkbox">
      <input type="checkbox" id={id} checked={checked} onChange={(e) => onChange(e.target.checked)} aria-describedby={hint ? `${id}-hint` : undefined} />
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}

export function errorsFor(errors: FieldError[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of errors ?? []) if (!m.has(e.field)) m.set(e.field, e.message);
  return m;
}

export function StatusTag({ status }: { status: string }) {
  return <strong className={`tag tag-${status}`}>{status}</strong>;
}
