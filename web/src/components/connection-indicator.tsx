// The live feed's state in the header: connected, connecting, or reconnecting in N s (click to retry now).
import { useI18n } from '../i18n/i18n.js';
import { useLive, useLiveFeed } from '../live/live-context.js';
import { useNow } from './use-now.js';

export function ConnectionIndicator() {
  const { t } = useI18n();
  const feed = useLiveFeed();
  const { connection, calls } = useLive();
  const now = useNow(500, connection.status === 'reconnecting');
  const active = [...calls.values()].filter((c) => !c.ended).length;
  let label: string;
  switch (connection.status) {
    case 'open':
      label = t('connection.open', { count: active });
      break;
    case 'connecting':
      label = t('connection.connecting');
      break;
    case 'reconnecting':
      label =
        connection.retryAt !== null && connection.retryAt > now
          ? t('connection.retryIn', { seconds: Math.ceil((connection.retryAt - now) / 1000) })
          : t('connection.reconnecting');
      break;
    case 'stopped':
      label = t('connection.stopped');
      break;
  }
  return (
    <button
      type="button"
      className={`connection connection-${connection.status}`}
      data-testid="live-connection"
      data-state={connection.status}
      onClick={() => feed.retryNow()}
      disabled={connection.status !== 'reconnecting'}
      title={connection.status === 'reconnecting' ? t('connection.retryNow') : t('connection.hint')}
    >
      <span className="connection-dot" aria-hidden="true" />
      <span className="connection-label">{label}</span>
    </button>
  );
}
