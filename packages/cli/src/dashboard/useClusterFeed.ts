import { useEffect, useState, useSyncExternalStore } from 'react';
import type { Legim } from '@legim/sdk';
import { ClusterFeed, type FeedSnapshot } from './cluster-feed.js';

/** The live data of one gateway for as long as the component is mounted. */
export function useClusterFeed(legim: Legim, intervalMs: number): FeedSnapshot {
  const [feed] = useState(() => new ClusterFeed(legim, { intervalMs }));
  useEffect(() => {
    feed.start();
    return () => feed.stop();
  }, [feed]);
  return useSyncExternalStore(feed.subscribe, feed.getSnapshot);
}
