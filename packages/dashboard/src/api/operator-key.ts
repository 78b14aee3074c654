/**
 * The operator key, kept for this browser tab only (sessionStorage): closing the tab forgets
 * it, and no other site or tab can read it.
 */
const STORAGE_KEY = 'conveyor.operatorKey';

export function operatorKey(): string | null {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function rememberOperatorKey(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key);
}

export function forgetOperatorKey(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

export function authHeaders(): Record<string, string> {
  const key = operatorKey();
  return key === null ? {} : { authorization: `Bearer ${key}` };
}
