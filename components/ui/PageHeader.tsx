import Link from "next/link";
import type { ReactNode } from "react";
import styles from "./PageHeader.module.css";

export interface Crumb {
  href: string;
  label: string;
}

export interface PageHeaderProps {
  title: ReactNode;
  /** Where this page sits: links to the pages above it, outermost first. */
  crumbs?: Crumb[];
  /** Buttons or links at the header's right end. */
  actions?: ReactNode;
  /** One line under the title (counts, a short description). */
  children?: ReactNode;
}

/** The header every page starts with: breadcrumbs, title, actions, one line of context. */
export function PageHeader({ title, crumbs = [], actions, children }: PageHeaderProps) {
  return (
    <header className={styles.header}>
      {crumbs.length > 0 && (
        <nav aria-label="Breadcrumbs" className={styles.crumbs}>
          <ol>
            {crumbs.map((crumb) => (
              <li key={crumb.href}>
                <Link href={crumb.href}>{crumb.label}</Link>
              </li>
            ))}
          </ol>
        </nav>
      )}
      <div className={styles.titleRow}>
        <h1 className={styles.title}>{title}</h1>
        {actions && <div className={styles.actions}>{actions}</div>}
      </div>
      {children && <div className={styles.meta}>{children}</div>}
    </header>
  );
}
