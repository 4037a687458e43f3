// Dates are shown as dd/mm/yyyy and sent to Rust as YYYY-MM-DD; times are shown in the
// device's time zone (WITA in Belu). Nothing here decides a health rule.
import { locale, t } from './i18n';

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

export function isRealDate(y: number, m: number, d: number): boolean {
  if (y < 1000 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return d <= days;
}

/** `2024-06-02` → `02/06/2024`; empty for nothing; anything else is shown as given. */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '';
  const m = ISO_DATE.exec(iso.slice(0, 10));
  if (!m) return iso;
  return `${m[3]}/${m[2]}/${m[1]}`;
}

/** Typed `d/m/yyyy` (also `-` or `.` as separators, or 8 digits `ddmmyyyy`) → `YYYY-MM-DD`,
 *  or null when it is not a real calendar date. */
export function parseDate(text: string): string | null {
  const s = text.trim();
  let d: number, m: number, y: number;
  const sep = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(s);
  if (sep) {
    d = Number(sep[1]);
    m = Number(sep[2]);
    y = Number(sep[3]);
  } else if (/^\d{8}$/.test(s)) {
    d = Number(s.slice(0, 2));
    m = Number(s.slice(2, 4));
    y = Number(s.slice(4));
  } else {
    return null;
  }
  if (!isRealDate(y, m, d)) return null;
  return `${y}-${pad2(m)}-${pad2(d)}`;
}

/** Puts the slashes in while digits are typed: `1403` → `14/03`, `14032020` → `14/03/2020`.
 *  Text with separators already typed is left alone. */
export function maskDateInput(raw: string): string {
  // Digits typed after the slashes the mask put in ("14/032", "14/03/2020"): mask the
  // digits again, so typing key by key ends as 14/03/2020.
  if (/^\d{2}\/\d{2}\/?\d*$|^\d{2}\/\d*$/.test(raw)) return maskDigits(raw);
  if (/[/.-]/.test(raw)) return raw.slice(0, 10);
  return maskDigits(raw);
}

function maskDigits(raw: string): string {
  const digits = raw.replace(/\D/g, '').slice(0, 8);
  if (digits.length <= 2) return digits;
  if (digits.length <= 4) return `${digits.slice(0, 2)}/${digits.slice(2)}`;
  return `${digits.slice(0, 2)}/${digits.slice(2, 4)}/${digits.slice(4)}`;
}

/** The zone of the store's dates (set from Rust's sync status), when known. */
let storeZone: string | null = null;

/** An IANA zone for minutes east of UTC: Indonesia's own three by name, whole hours as
 *  `Etc/GMT-h`; null for anything else. */
export function zoneForOffset(minutes: number): string | null {
  const named: Record<number, string> = { 420: 'Asia/Jakarta', 480: 'Asia/Makassar', 540: 'Asia/Jayapura' };
  if (named[minutes]) return named[minutes];
  if (minutes === 0) return 'UTC';
  if (minutes % 60 !== 0 || Math.abs(minutes) > 14 * 60) return null;
  const h = minutes / 60;
  // IANA's Etc zones count the other way round: UTC+9 is Etc/GMT-9.
  return `Etc/GMT${h > 0 ? '-' : '+'}${Math.abs(h)}`;
}

/** Times are shown in the zone Rust dates the records in (WITA by default), not in the
 *  machine's zone, so Beranda's date and its last-sync time agree. */
export function setStoreZone(minutes: number | null | undefined): void {
  storeZone = minutes === null || minutes === undefined ? null : zoneForOffset(minutes);
}

/** The zone times are shown in: the store's zone once known, else the device's IANA zone
 *  (Asia/Makassar on a tablet in Belu). */
export function deviceTimeZone(): string {
  return storeZone ?? (Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
}

/** Indonesia's own zone names, the same in both languages; other zones as Intl names them. */
const INDONESIAN_ZONES: Record<string, string> = {
  'Asia/Jakarta': 'WIB',
  'Asia/Pontianak': 'WIB',
  'Asia/Makassar': 'WITA',
  'Asia/Ujung_Pandang': 'WITA',
  'Asia/Jayapura': 'WIT',
};

export function zoneAbbrev(zone: string, at: Date = new Date()): string {
  if (zone in INDONESIAN_ZONES) return INDONESIAN_ZONES[zone];
  try {
    const part = new Intl.DateTimeFormat('en-GB', { timeZone: zone, timeZoneName: 'short' })
      .formatToParts(at)
      .find((p) => p.type === 'timeZoneName');
    return part?.value ?? zone;
  } catch {
    return zone;
  }
}

interface Parts {
  year: string;
  month: string;
  day: string;
  hour: string;
  minute: string;
}

function partsIn(ms: number, zone: string): Parts {
  const out: Record<string, string> = {};
  for (const p of new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(ms))) {
    out[p.type] = p.value;
  }
  return out as unknown as Parts;
}

/** `14.05 WITA` (Indonesian) or `14:05 WITA` (English), in `zone`. */
export function formatTime(ms: number, zone: string = deviceTimeZone()): string {
  const p = partsIn(ms, zone);
  const sep = locale.current === 'id' ? '.' : ':';
  return `${p.hour}${sep}${p.minute} ${zoneAbbrev(zone, new Date(ms))}`;
}

/** `22/11/2025 14.05 WITA`. */
export function formatDateTime(ms: number, zone: string = deviceTimeZone()): string {
  const p = partsIn(ms, zone);
  return `${p.day}/${p.month}/${p.year} ${formatTime(ms, zone)}`;
}

/** The calendar date of `ms` in `zone`, as `YYYY-MM-DD`. */
export function isoDateIn(ms: number, zone: string = deviceTimeZone()): string {
  const p = partsIn(ms, zone);
  return `${p.year}-${p.month}-${p.day}`;
}

/** A moment relative to `nowMs`: today → time only; otherwise date and time. */
export function formatWhen(ms: number, nowMs: number = Date.now(), zone = deviceTimeZone()): string {
  if (isoDateIn(ms, zone) === isoDateIn(nowMs, zone)) return t('time.today_at', { time: formatTime(ms, zone) });
  return formatDateTime(ms, zone);
}

/** Age from whole months: `5 bulan`, `2 tahun 3 bulan`, `34 tahun` (years only from 5 years). */
export function formatAge(months: number | null | undefined): string {
  if (months === null || months === undefined || months < 0) return '';
  // English counts in the singular for one ("1 year", "1 month"); Bahasa Indonesia does not.
  const mo = (m: number) => t(m === 1 ? 'age.month' : 'age.months', { m });
  const yr = (y: number) => t(y === 1 ? 'age.year' : 'age.years', { y });
  if (months < 12) return mo(months);
  const y = Math.floor(months / 12);
  const m = months % 12;
  if (y >= 5 || m === 0) return yr(y);
  return t('age.years_months', { years: yr(y), months: mo(m) });
}

/** A number in the language's way: `8,2` in Bahasa Indonesia, `8.2` in English. */
export function formatDecimal(n: number, maxDigits = 2): string {
  return n.toLocaleString(locale.current === 'id' ? 'id-ID' : 'en-GB', { maximumFractionDigits: maxDigits, useGrouping: false });
}
