import { render } from '@testing-library/react';
import App from './App';

describe('App', () => {
  it('offers Microsoft Entra sign-in and no guest sign-in', async () => {
    process.env = {
      NODE_ENV: 'test',
      APP_CONFIG: [
        {
          data: {
            app: { title: 'Test' },
            backend: { baseUrl: 'http://localhost:7007' },
            techdocs: {
              storageUrl: 'http://localhost:7007/api/techdocs/static/docs',
            },
          },
          context: 'test',
        },
      ] as any,
    };

    const rendered = render(App.createRoot());

    // Nobody is signed in yet: the app offers Entra sign-in, and only that.
    expect(
      await rendered.findByText(
        'Microsoft Entra ID',
        { exact: true },
        { timeout: 25_000 },
      ),
    ).toBeInTheDocument();
    expect(
      rendered.getByRole('button', { name: 'Sign In' }),
    ).toBeInTheDocument();
    expect(rendered.queryByRole('button', { name: 'Enter' })).toBeNull();
  }, 30_000);
});
