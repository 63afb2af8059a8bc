/** cozy-stack-client (the npm package cozy apps use), its default export whatever the module system gives. */
import CozyStackClientModule from 'cozy-stack-client';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const CozyStackClient: any = (CozyStackClientModule as any).default ?? CozyStackClientModule;
