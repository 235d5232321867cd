import { SignInPage } from '@backstage/core-components';
import { microsoftAuthApiRef } from '@backstage/core-plugin-api';
import type { SignInPageProps } from '@backstage/plugin-app-react';

/**
 * The only way in: Microsoft Entra ID. There is deliberately no guest
 * option; who you are comes from your Entra account (its object id).
 */
export function EntraSignInPage(props: SignInPageProps) {
  return (
    <SignInPage
      {...props}
      title="Backstage Entra Starter"
      align="center"
      provider={{
        id: 'microsoft-auth-provider',
        title: 'Microsoft Entra ID',
        message: 'Sign in with your work account',
        apiRef: microsoftAuthApiRef,
      }}
    />
  );
}
