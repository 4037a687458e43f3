// The referral list's filter, kept while the kader opens a referral and comes back.
import type { ReferralStatus } from './api-health';

export const referralFilter = $state<{ status: ReferralStatus | 'all' }>({ status: 'all' });
