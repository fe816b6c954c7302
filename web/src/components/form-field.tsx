// A labelled form field with its hint and problems (each `field-problem` with `data-path`), wired for
// screen readers the way the agent editor's fields are.
import { useId } from 'react';
import type { ReactNode } from 'react';

export function FieldProblems({ path, problems, id }: { path: string; problems: readonly string[] | undefined; id?: string }) {
  if (!problems || problems.length === 0) return null;
  return (
    <ul className="field-problems" id={id} role="alert">
      {problems.map((message, i) => (
        <li key={i} className="field-error" data-testid="field-problem" data-path={path}>
          {message}
        </li>
      ))}
    </ul>
  );
}

export function FormField({
  label,
  hint,
  path,
  problems,
  wide,
  children,
}: {
  label: string;
  hint?: ReactNode;
  /** The request path the problems belong to (`retry.maxAttempts`). */
  path: string;
  problems?: readonly string[] | undefined;
  wide?: boolean;
  children: (id: string, describedBy: string | undefined) => ReactNode;
}) {
  const id = useId();
  const problemId = `${id}-problems`;
  const invalid = Boolean(problems && problems.length > 0);
  return (
    <div className={`field${wide ? ' field-wide' : ''}${invalid ? ' invalid' : ''}`}>
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      {children(id, invalid ? problemId : undefined)}
      {hint ? <div className="field-hint">{hint}</div> : null}
      <FieldProblems path={path} problems={problems} id={problemId} />
    </div>
  );
}
