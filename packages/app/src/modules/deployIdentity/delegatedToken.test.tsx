import { useState } from 'react';
import {
  DialogApi,
  dialogApiRef,
  OAuthApi,
  useApi,
} from '@backstage/frontend-plugin-api';
import { ConfigReader } from '@backstage/config';
import { renderInTestApp } from '@backstage/frontend-test-utils';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { entraDelegatedTokenDecorator } from './index';
import {
  addDelegatedToken,
  DELEGATED_TOKEN_SECRET,
  portalApiScope,
} from './delegatedToken';

const CLIENT_ID = '7bc4a39a-e36e-411a-932c-a52950fa7769';
const SCOPE = `api://${CLIENT_ID}/access_as_user`;
const config = new ConfigReader({
  auth: {
    environment: 'development',
    providers: { microsoft: { development: { clientId: CLIENT_ID } } },
  },
});

type Outcome =
  | { state: 'running' }
  | { state: 'done'; secrets: Record<string, string> }
  | { state: 'failed'; message: string };

/**
 * Runs the decorator as the scaffolder's wizard does at submit, with the
 * app's real dialog API, and shows what it left in the task's secrets.
 */
function Submit(props: {
  microsoftAuth: Pick<OAuthApi, 'getAccessToken'>;
  restartForm?: (formState: object) => void;
}) {
  const dialogApi: DialogApi = useApi(dialogApiRef);
  const [result, setResult] = useState<Outcome>();
  const submit = () => {
    let secrets: Record<string, string> = { other: 'kept' };
    setResult({ state: 'running' });
    addDelegatedToken(
      {
        formState: { component: 'component:default/payments' },
        setSecrets: fn => {
          secrets = fn(secrets);
        },
      },
      {
        microsoftAuth: props.microsoftAuth as OAuthApi,
        configApi: config,
        dialogApi,
        restartForm: props.restartForm,
      },
    ).then(
      () => setResult({ state: 'done', secrets }),
      e => setResult({ state: 'failed', message: e.message }),
    );
  };
  return (
    <>
      <button onClick={submit}>Create</button>
      <pre data-testid="outcome">{JSON.stringify(result)}</pre>
    </>
  );
}

function outcome(): Outcome | undefined {
  const text = screen.getByTestId('outcome').textContent;
  return text ? JSON.parse(text) : undefined;
}

describe('entra-delegated-token form decorator', () => {
  it('has the id templates opt in with', () => {
    expect(entraDelegatedTokenDecorator.id).toBe('entra-delegated-token');
  });

  it("puts the person's token for the portal API in the task's secrets under entraDelegatedToken, without asking when Entra does not need to", async () => {
    const getAccessToken = jest.fn().mockResolvedValue('delegated-token');
    await renderInTestApp(<Submit microsoftAuth={{ getAccessToken }} />);

    fireEvent.click(screen.getByRole('button', { name: 'Create' }));

    await waitFor(() =>
      expect(outcome()).toEqual({
        state: 'done',
        secrets: { other: 'kept', [DELEGATED_TOKEN_SECRET]: 'delegated-token' },
      }),
    );
    expect(getAccessToken).toHaveBeenCalledTimes(1);
    expect(getAccessToken).toHaveBeenCalledWith(SCOPE, { optional: true });
    expect(
      screen.queryByText('Sign in again to deploy as yourself'),
    ).not.toBeInTheDocument();
  });

  it('asks the person to sign in again when Entra needs them, keeps asking after a failed popup, and starts the task once signed in', async () => {
    const getAccessToken = jest
      .fn()
      // Silent refresh: Entra wants interaction (expired sign-in, consent).
      .mockResolvedValueOnce('')
      .mockRejectedValueOnce(new Error('Login failed, popup was closed'))
      .mockResolvedValueOnce('fresh-token');
    await renderInTestApp(<Submit microsoftAuth={{ getAccessToken }} />);

    fireEvent.click(screen.getByRole('button', { name: 'Create' }));

    expect(
      await screen.findByText('Sign in again to deploy as yourself'),
    ).toBeInTheDocument();
    expect(outcome()).toEqual({ state: 'running' });

    fireEvent.click(
      screen.getByRole('button', { name: 'Sign in with Microsoft' }),
    );
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Login failed, popup was closed',
    );
    expect(outcome()).toEqual({ state: 'running' });

    fireEvent.click(
      screen.getByRole('button', { name: 'Sign in with Microsoft' }),
    );
    await waitFor(() =>
      expect(outcome()).toEqual({
        state: 'done',
        secrets: { other: 'kept', [DELEGATED_TOKEN_SECRET]: 'fresh-token' },
      }),
    );
    expect(getAccessToken).toHaveBeenLastCalledWith(SCOPE, {
      instantPopup: true,
    });
    await waitFor(() =>
      expect(
        screen.queryByText('Sign in again to deploy as yourself'),
      ).not.toBeInTheDocument(),
    );
  });

  it("shows Entra's reason when the silent attempt fails outright", async () => {
    const getAccessToken = jest
      .fn()
      .mockRejectedValueOnce(new Error('AADSTS65001: consent required'));
    await renderInTestApp(<Submit microsoftAuth={{ getAccessToken }} />);

    fireEvent.click(screen.getByRole('button', { name: 'Create' }));

    expect(await screen.findByRole('alert')).toHaveTextContent(
      'AADSTS65001: consent required',
    );
    expect(outcome()).toEqual({ state: 'running' });
  });

  it('creates no task when the person cancels, and gives the form back with their answers', async () => {
    const getAccessToken = jest.fn().mockResolvedValue('');
    const restartForm = jest.fn();
    await renderInTestApp(
      <Submit microsoftAuth={{ getAccessToken }} restartForm={restartForm} />,
    );

    fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    fireEvent.click(await screen.findByRole('button', { name: 'Cancel' }));

    await waitFor(() => expect(outcome()?.state).toBe('failed'));
    expect(outcome()).toEqual({
      state: 'failed',
      message: expect.stringMatching(/^Deploy not started/),
    });
    expect(restartForm).toHaveBeenCalledWith({
      component: 'component:default/payments',
    });
  });

  it("names the config key when the portal's client id is not visible to the frontend", () => {
    expect(() => portalApiScope(new ConfigReader({}))).toThrow(
      'auth.providers.microsoft.development.clientId is not set',
    );
    expect(portalApiScope(config)).toBe(SCOPE);
  });
});
