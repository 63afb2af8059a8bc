// Placeholder of the Drive split: the views helper replaces this module (same export, same props).
import type { JSX } from 'preact';
import { Dialog } from '../../../shared/components';
import type { PreviewProps } from '../types';

export function Preview(props: PreviewProps): JSX.Element {
  return <Dialog title={props.file.name} onClose={props.onClose}><p>{props.file.name}</p></Dialog>;
}
