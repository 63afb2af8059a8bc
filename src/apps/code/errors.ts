/** The refusals of the code side of the apps platform (tarballs, sources), typed so the routes map them. */
import { BadRequest, UnprocessableEntity } from '../../common/errors.js';

/** A package that cannot be installed: a hostile or broken tarball, a wrong manifest, a checksum mismatch (400). */
export class BadPackage extends BadRequest {}

/** A `Source` that Hearth does not install from (a scheme, or `file://` outside dev): 422 on the `Source` parameter. */
export class InvalidSource extends UnprocessableEntity {
  constructor(reason: string) {
    super(reason, undefined, 'Source');
  }
}
