import { useState } from 'react';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogContentText from '@material-ui/core/DialogContentText';
import DialogTitle from '@material-ui/core/DialogTitle';
import Typography from '@material-ui/core/Typography';

/**
 * Asks the person to sign in again (or consent) before a deploy that runs
 * with their identity. Failed attempts (popup closed, consent refused) keep
 * the dialog open with Entra's reason, so they can try again or cancel.
 */
export function SignInAgainDialog(props: {
  initialReason?: string;
  signIn: () => Promise<string>;
  onToken: (token: string) => void;
  onCancel: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [reason, setReason] = useState(props.initialReason);

  const signIn = () => {
    setBusy(true);
    // Called straight from the click so the browser lets the popup open.
    props.signIn().then(
      token => {
        if (token) {
          props.onToken(token);
          return;
        }
        setReason('Microsoft sign-in returned no token.');
        setBusy(false);
      },
      error => {
        setReason(error instanceof Error ? error.message : String(error));
        setBusy(false);
      },
    );
  };

  return (
    <Dialog
      open
      onClose={() => !busy && props.onCancel()}
      aria-labelledby="entra-sign-in-again-title"
    >
      <DialogTitle id="entra-sign-in-again-title">
        Sign in again to deploy as yourself
      </DialogTitle>
      <DialogContent>
        <DialogContentText>
          This template runs with your own Microsoft Entra identity, so the
          deploy target sees who asked for it. The portal could not get your
          token without asking you: your Microsoft sign-in has expired, or you
          have not yet allowed the portal to act on your behalf.
        </DialogContentText>
        <DialogContentText>
          Sign in (and consent if Microsoft asks); the task starts as soon as
          you are signed in.
        </DialogContentText>
        {reason && (
          <Typography variant="body2" color="error" role="alert">
            Microsoft sign-in said: {reason}
          </Typography>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onCancel} disabled={busy}>
          Cancel
        </Button>
        <Button
          color="primary"
          variant="contained"
          onClick={signIn}
          disabled={busy}
        >
          Sign in with Microsoft
        </Button>
      </DialogActions>
    </Dialog>
  );
}
